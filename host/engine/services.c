/*
 * services.c — the host-services table and the run of one task attempt.
 */
#include "config.h"

#include "services.h"
#include "export_output.h"
#include "readstore.h"

#include "atomic_file.h"
#include "csv.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <unistd.h>

/* An export table being written: a CSV file in the attempt's work folder,
 * moved to ExportOutput when the task succeeds. */
struct jobhost_table {
  struct jh_task_state *st;
  char *name;
  char *tmp_path;   /* in the work folder; the writer fills path.tmp */
  jh_csv_writer *w; /* NULL once committed or aborted */
  size_t ncolumns;
  int failed;
  int closed;
  struct jobhost_table *next;
};

typedef struct jh_task_state {
  const jh_task_env *env;
  jobhost_ctx ctx;
  struct jobhost_table *tables;
  void *cookie_in;
  size_t cookie_in_len;
  int cookie_in_loaded;
  void *cookie_out;
  size_t cookie_out_len;
  int cookie_out_set;
  int work_dir_made;
  char log_path[PATH_MAX]; /* made on the first host_object asking */
  jh_readstore *rs;        /* read access, made on first use */
  struct split *splits;    /* list defaults split into items */
  /* in validate: where set_message writes; reports go nowhere else */
  int validating;
  char message[512];
} jh_task_state;

/* A list default (items separated by commas) split once per task. */
struct split {
  struct split *next;
  const char *text; /* the default, borrowed from the schema */
  char **items;
  size_t n;
};

static jh_task_state *state_of(jobhost_ctx *ctx) {
  return (jh_task_state *)ctx->host_private;
}

/* ---- reporting ---- */

/* One record: header and head in a small buffer, the text written from
 * where it is (writev), so that no large buffer is touched per call. */
static void emit(const jh_task_env *env, jh_wire_type type, const void *head,
                 size_t head_len, const char *text, size_t text_len) {
  unsigned char hdr[5 + 16];
  uint32_t len;
  struct iovec iov[2];
  size_t total;

  if (head_len > 16)
    return; /* no record has a head longer than 16 bytes */
  if (env->fd < 0 && env->outcome == NULL)
    return; /* validate: nothing is recorded */
  len = jh_wire_header(hdr, type, head, head_len, &text_len);

  if (env->fd < 0) { /* in process: apply the payload at once */
    unsigned char *payload = malloc(len ? len : 1);
    if (payload == NULL)
      return;
    memcpy(payload, hdr + 5, head_len);
    if (text_len > 0)
      memcpy(payload + head_len, text, text_len);
    (void)jh_wire_apply(env->outcome, type, payload, len);
    free(payload);
    return;
  }
  iov[0].iov_base = hdr;
  iov[0].iov_len = 5 + head_len;
  iov[1].iov_base = (void *)text;
  iov[1].iov_len = text_len;
  total = iov[0].iov_len + iov[1].iov_len;
  while (total > 0) {
    ssize_t w = writev(env->fd, iov[0].iov_len ? iov : iov + 1,
                       iov[0].iov_len ? 2 : 1);
    if (w < 0 && errno == EINTR)
      continue;
    if (w <= 0)
      return; /* the host is gone; nothing more to tell */
    total -= (size_t)w;
    for (int k = 0; k < 2 && w > 0; k++) {
      size_t take = (size_t)w < iov[k].iov_len ? (size_t)w : iov[k].iov_len;
      iov[k].iov_base = (char *)iov[k].iov_base + take;
      iov[k].iov_len -= take;
      w -= (ssize_t)take;
    }
  }
}

static void emit_text(const jh_task_env *env, jh_wire_type type,
                      const void *head, size_t head_len, const char *fmt,
                      va_list ap) JOBHOST_PRINTF(5, 0);
static void emit_text(const jh_task_env *env, jh_wire_type type,
                      const void *head, size_t head_len, const char *fmt,
                      va_list ap) {
  char small[1024], *text = small;
  va_list again;
  int len;

  va_copy(again, ap);
  len = vsnprintf(small, sizeof(small), fmt, ap);
  if (len >= (int)sizeof(small) && vasprintf(&text, fmt, again) < 0)
    text = NULL;
  va_end(again);
  if (len < 0 || text == NULL)
    return;
  emit(env, type, head, head_len, text, (size_t)len);
  if (text != small)
    free(text);
}

static void svc_log(jobhost_ctx *ctx, jobhost_log_level level, const char *fmt,
                    ...) JOBHOST_PRINTF(3, 4);
static void svc_log(jobhost_ctx *ctx, jobhost_log_level level, const char *fmt,
                    ...) {
  unsigned char lv = (unsigned char)level;
  va_list ap;
  va_start(ap, fmt);
  emit_text(state_of(ctx)->env, JH_WIRE_LOG, &lv, 1, fmt, ap);
  va_end(ap);
}

static void svc_progress(jobhost_ctx *ctx, uint64_t done, uint64_t total) {
  uint64_t head[2] = {done, total};
  emit(state_of(ctx)->env, JH_WIRE_PROGRESS, head, sizeof(head), NULL, 0);
}

static void counter(jobhost_ctx *ctx, jh_wire_type type, const char *name,
                    int64_t v) {
  if (name == NULL || *name == '\0')
    return;
  emit(state_of(ctx)->env, type, &v, sizeof(v), name, strlen(name));
}

static void svc_counter_add(jobhost_ctx *ctx, const char *name, int64_t d) {
  counter(ctx, JH_WIRE_COUNTER_ADD, name, d);
}

static void svc_counter_set(jobhost_ctx *ctx, const char *name, int64_t v) {
  counter(ctx, JH_WIRE_COUNTER_SET, name, v);
}

static void svc_set_produced_output(jobhost_ctx *ctx, int produced) {
  unsigned char p = produced != 0;
  emit(state_of(ctx)->env, JH_WIRE_OUTPUT, &p, 1, NULL, 0);
}

static void svc_set_message(jobhost_ctx *ctx, const char *fmt, ...)
    JOBHOST_PRINTF(2, 3);
static void svc_set_message(jobhost_ctx *ctx, const char *fmt, ...) {
  jh_task_state *st = state_of(ctx);
  va_list ap;
  va_start(ap, fmt);
  if (st->validating)
    vsnprintf(st->message, sizeof(st->message), fmt, ap);
  else
    emit_text(st->env, JH_WIRE_MESSAGE, NULL, 0, fmt, ap);
  va_end(ap);
}

static int svc_is_cancelled(jobhost_ctx *ctx) {
  const jh_task_env *env = state_of(ctx)->env;
  return env->cancelled != NULL && *env->cancelled != 0;
}

/* The attempt's work folder, made on first use. */
static const char *work_dir(jh_task_state *st) {
  if (!st->work_dir_made) {
    if (mkdir(st->env->work_dir, 0750) != 0 && errno != EEXIST)
      return NULL;
    st->work_dir_made = 1;
  }
  return st->env->work_dir;
}

static const char *svc_folder(jobhost_ctx *ctx, jobhost_folder which) {
  const jh_task_env *env = state_of(ctx)->env;
  if (env->home == NULL)
    return NULL; /* validate */
  if (which == JOBHOST_FOLDER_TASK_WORK)
    return work_dir(state_of(ctx));
  if ((int)which < 0 || which > JOBHOST_FOLDER_TASK_WORK)
    return NULL;
  return env->home->folders[which];
}

/* ---- parameters ---- */

static const jobhost_param *schema_param(const jh_task_def *def,
                                         const char *name) {
  const jobhost_param *p = def != NULL && def->task_type
                               ? def->task_type->params
                               : NULL;
  for (size_t i = 0; p != NULL && p[i].name != NULL; i++)
    if (strcmp(p[i].name, name) == 0)
      return &p[i];
  return NULL;
}

static const char *svc_param(jobhost_ctx *ctx, const char *name) {
  const jh_task_def *def = state_of(ctx)->env->def;
  const jh_value *v = def != NULL ? jh_task_value(def, name) : NULL;
  const jobhost_param *p;
  if (v != NULL)
    return v->text; /* NULL for a list: read it with param_list */
  p = schema_param(def, name);
  return p != NULL && p->type != JOBHOST_PARAM_LIST ? p->default_value : NULL;
}

/* The items of a list default (comma-separated), split once per task
 * and kept until it ends. 0 items for no default or out of memory. */
static size_t split_default(jh_task_state *st, const char *text,
                            const char *const **items) {
  struct split *sp;
  const char *p;
  size_t n = 1;

  *items = NULL;
  if (text == NULL || *text == '\0')
    return 0;
  for (sp = st->splits; sp != NULL; sp = sp->next)
    if (sp->text == text) {
      *items = (const char *const *)sp->items;
      return sp->n;
    }
  for (p = text; *p; p++)
    n += *p == ',';
  sp = calloc(1, sizeof(*sp));
  if (sp == NULL || (sp->items = calloc(n, sizeof(*sp->items))) == NULL) {
    free(sp);
    return 0;
  }
  sp->text = text;
  for (p = text;; p++) {
    const char *end = strchr(p, ',');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    sp->items[sp->n] = strndup(p, len);
    if (sp->items[sp->n] == NULL)
      break;
    sp->n++;
    if (end == NULL)
      break;
    p = end;
  }
  sp->next = st->splits;
  st->splits = sp;
  *items = (const char *const *)sp->items;
  return sp->n;
}

static size_t svc_param_list(jobhost_ctx *ctx, const char *name,
                             const char *const **items) {
  jh_task_state *st = state_of(ctx);
  const jh_value *v = st->env->def != NULL && name != NULL
                          ? jh_task_value(st->env->def, name)
                          : NULL;
  const jobhost_param *p;
  if (v == NULL && name != NULL &&
      (p = schema_param(st->env->def, name)) != NULL &&
      p->type == JOBHOST_PARAM_LIST)
    return split_default(st, p->default_value, items); /* ABI 1.2 */
  if (v == NULL || v->items == NULL) {
    *items = NULL;
    return 0;
  }
  *items = (const char *const *)v->items;
  return v->nitems;
}

/* ---- typed getters (ABI 1.2) ---- */

static int svc_param_int(jobhost_ctx *ctx, const char *name, int64_t *out) {
  const char *v = name != NULL ? svc_param(ctx, name) : NULL;
  char *end = NULL;
  long long ll;
  if (v == NULL)
    return -ENOENT;
  errno = 0;
  ll = strtoll(v, &end, 10);
  if (errno != 0 || end == v || *end != '\0')
    return -EINVAL;
  *out = ll;
  return 0;
}

static int svc_param_bool(jobhost_ctx *ctx, const char *name, int *out) {
  const char *v = name != NULL ? svc_param(ctx, name) : NULL;
  if (v == NULL)
    return -ENOENT;
  if (strcmp(v, "true") == 0)
    *out = 1;
  else if (strcmp(v, "false") == 0)
    *out = 0;
  else
    return -EINVAL;
  return 0;
}

static int svc_param_duration(jobhost_ctx *ctx, const char *name, int64_t *ms) {
  const char *v = name != NULL ? svc_param(ctx, name) : NULL;
  long l;
  if (v == NULL)
    return -ENOENT;
  if (jh_duration_parse(v, &l) != 0)
    return -EINVAL;
  *ms = l;
  return 0;
}

/* ---- the task's connection, from the model ---- */

/* The index of the task's connection in the model, or -1. */
static long connection_index(jobhost_ctx *ctx) {
  const jh_model *m = state_of(ctx)->env->pipeline->model;
  const jh_connection *c = jh_model_connection(m, ctx->connection);
  return c != NULL ? (long)(c - m->connections) : -1;
}

static const jobhost_package *svc_connection_package(jobhost_ctx *ctx) {
  const jh_pipeline *p = state_of(ctx)->env->pipeline;
  long i = connection_index(ctx);
  return i >= 0 && p->packages != NULL ? p->packages[i] : NULL;
}

/* A setting as written in the model, else the package's default. */
static const char *svc_setting(jobhost_ctx *ctx, const char *name) {
  const jh_pipeline *p = state_of(ctx)->env->pipeline;
  const jobhost_package *pkg;
  long i = connection_index(ctx);
  const char *v;

  if (i < 0 || name == NULL)
    return NULL;
  v = jh_connection_setting(&p->model->connections[i], name);
  if (v != NULL)
    return v;
  pkg = p->packages != NULL ? p->packages[i] : NULL;
  for (size_t k = 0;
       pkg != NULL && pkg->settings != NULL && pkg->settings[k].name != NULL;
       k++)
    if (strcmp(pkg->settings[k].name, name) == 0)
      return pkg->settings[k].default_value;
  return NULL;
}

static size_t svc_setting_list(jobhost_ctx *ctx, const char *name,
                               const char *const **items) {
  const jh_pipeline *p = state_of(ctx)->env->pipeline;
  const jobhost_package *pkg;
  const jh_connection *c;
  long i = connection_index(ctx);

  *items = NULL;
  if (i < 0 || name == NULL)
    return 0;
  c = &p->model->connections[i];
  for (size_t k = 0; k < c->nsettings; k++)
    if (strcasecmp(c->settings[k].name, name) == 0) {
      if (c->settings[k].items == NULL)
        break; /* not a list */
      *items = (const char *const *)c->settings[k].items;
      return c->settings[k].nitems;
    }
  pkg = p->packages != NULL ? p->packages[i] : NULL;
  for (size_t k = 0;
       pkg != NULL && pkg->settings != NULL && pkg->settings[k].name != NULL;
       k++)
    if (strcmp(pkg->settings[k].name, name) == 0 &&
        pkg->settings[k].type == JOBHOST_PARAM_LIST &&
        jh_connection_setting(c, name) == NULL)
      return split_default(state_of(ctx), pkg->settings[k].default_value,
                           items);
  return 0;
}

static int svc_secret(jobhost_ctx *ctx, const char *name, char *buf,
                      size_t size) {
  const jh_model *m = state_of(ctx)->env->pipeline->model;
  long i = connection_index(ctx);
  const jh_connection *c;

  if (size > 0)
    buf[0] = '\0';
  if (i < 0 || name == NULL)
    return -ENOENT;
  c = &m->connections[i];
  for (size_t k = 0; k < c->nsecrets; k++)
    if (strcmp(c->secrets[k].name, name) == 0)
      return jh_secret_read(&c->secrets[k], buf, size);
  return -ENOENT;
}

static void svc_committed(jobhost_ctx *ctx, int held) {
  unsigned char h = held ? 1 : 0;
  emit(state_of(ctx)->env, JH_WIRE_COMMITTED, &h, 1, NULL, 0);
}

static const jh_commit_notice commit_notice = {svc_committed};

static const void *svc_host_object(jobhost_ctx *ctx, const char *name) {
  const jh_task_env *env = state_of(ctx)->env;
  if (name == NULL || env->home == NULL)
    return NULL;
  if (strcmp(name, JH_MODEL_OBJECT) == 0)
    return env->pipeline->model;
  if (strcmp(name, JH_IDSTORE_OBJECT) == 0)
    return env->home->identity_store_path;
  if (strcmp(name, JH_COMMIT_OBJECT) == 0)
    return &commit_notice;
  if (strcmp(name, JH_TASKLOG_OBJECT) == 0) {
    /* the attempt's log and work folder share their name (executor.c) */
    jh_task_state *st = state_of(ctx);
    const char *slash = env->work_dir ? strrchr(env->work_dir, '/') : NULL;
    int n;
    if (slash == NULL)
      return NULL;
    n = snprintf(st->log_path, sizeof(st->log_path), "%s/%s.log",
                 env->home->folders[JOBHOST_FOLDER_JOB_LOGS], slash + 1);
    return n > 0 && (size_t)n < sizeof(st->log_path) ? st->log_path : NULL;
  }
  return NULL;
}

/* ---- export tables ---- */

/* Why `name` cannot name a table (its file is ExportOutput/<name>.csv), or
 * NULL when it can. */
static const char *bad_table_name(const char *name) {
  if (name == NULL || *name == '\0')
    return "a table needs a name";
  if (strlen(name) > 200)
    return "a table name has at most 200 bytes";
  if (name[0] == '.')
    return "a table name does not start with '.'";
  for (const char *p = name; *p; p++)
    if (*p == '/' || *p == '\\' || (unsigned char)*p < 0x20)
      return "a table name has no '/', '\\' or control character";
  return NULL;
}

/* Why `columns` cannot be a table's header, or NULL when they can: at
 * least one, each named, no name twice (*at: the column refused, from 0;
 * *first: for a name twice, its first column, from 1). */
static const char *bad_columns(const char *const *columns, size_t n, size_t *at,
                               size_t *first) {
  if (columns == NULL || n == 0)
    return "a table needs at least one column";
  for (*at = 0; *at < n; (*at)++) {
    if (columns[*at] == NULL || columns[*at][0] == '\0')
      return "has no name";
    for (size_t k = 0; k < *at; k++)
      if (strcmp(columns[k], columns[*at]) == 0) {
        *first = k + 1;
        return "appears twice";
      }
  }
  return NULL;
}

static void table_free(struct jobhost_table *t) {
  jh_csv_writer_abort(t->w); /* NULL-safe: only an unfinished table */
  free(t->name);
  free(t->tmp_path);
  free(t);
}

static int svc_table_open(jobhost_ctx *ctx, const char *name,
                          const char *const *columns, size_t ncolumns,
                          jobhost_table **out) {
  jh_task_state *st = state_of(ctx);
  struct jobhost_table *t;
  const char *why;
  size_t at = 0, first = 0;
  int rc;

  *out = NULL;
  if (st->validating) {
    svc_log(ctx, JOBHOST_LOG_ERROR,
            "table_open: refused in a validate entry point, which writes no "
            "table");
    return -EPERM;
  }
  if ((why = bad_table_name(name)) != NULL) {
    /* the name is not repeated: it may hold a line break */
    svc_log(ctx, JOBHOST_LOG_ERROR, "table_open: refused: %s", why);
    return -EINVAL;
  }
  if ((why = bad_columns(columns, ncolumns, &at, &first)) != NULL) {
    if (columns == NULL || ncolumns == 0)
      svc_log(ctx, JOBHOST_LOG_ERROR, "table_open(%s): refused: %s", name, why);
    else if (first > 0)
      svc_log(ctx, JOBHOST_LOG_ERROR,
              "table_open(%s): refused: column %zu %s (column %zu has the "
              "same name)",
              name, at + 1, why, first);
    else
      svc_log(ctx, JOBHOST_LOG_ERROR, "table_open(%s): refused: column %zu %s",
              name, at + 1, why);
    return -EINVAL;
  }
  for (t = st->tables; t != NULL; t = t->next)
    if (strcmp(t->name, name) == 0) {
      svc_log(ctx, JOBHOST_LOG_ERROR,
              "table_open(%s): refused: the task opened a table of that name "
              "already",
              name);
      return -EEXIST;
    }
  if (work_dir(st) == NULL) {
    int e = errno;
    svc_log(ctx, JOBHOST_LOG_ERROR,
            "table_open(%s): the task's work folder cannot be made: %s", name,
            strerror(e));
    return -e;
  }
  t = calloc(1, sizeof(*t));
  if (t == NULL)
    return -ENOMEM;
  t->st = st;
  t->ncolumns = ncolumns;
  t->name = strdup(name);
  if (t->name == NULL ||
      asprintf(&t->tmp_path, "%s/%s.csv", st->env->work_dir, name) < 0) {
    t->tmp_path = NULL;
    table_free(t);
    return -ENOMEM;
  }
  rc = jh_csv_writer_open(t->tmp_path, ',', &t->w);
  if (rc != 0) {
    t->w = NULL;
    table_free(t);
    return rc;
  }
  rc = jh_csv_write_record(t->w, columns, ncolumns);
  if (rc != 0) {
    table_free(t);
    return rc;
  }
  /* the package reads its source while a thread writes the table; when
   * the thread cannot start, the writing stays in this one */
  (void)jh_csv_writer_background(t->w);
  t->next = st->tables;
  st->tables = t;
  *out = t;
  return 0;
}

static int svc_table_write(jobhost_table *t, const char *const *values,
                           size_t nvalues) {
  int rc;
  if (t == NULL || t->closed)
    return -EBADF;
  if (nvalues != t->ncolumns) {
    t->failed = 1;
    return -EINVAL;
  }
  rc = jh_csv_write_record(t->w, values, nvalues);
  if (rc != 0)
    t->failed = 1;
  return rc;
}

/* A complete table is committed to its place in the work folder; the
 * task's success then moves it to ExportOutput (commit_effects). */
static int svc_table_close(jobhost_table *t) {
  int rc;
  if (t == NULL || t->closed)
    return -EBADF;
  t->closed = 1;
  if (t->failed) {
    jh_csv_writer_abort(t->w);
    t->w = NULL;
    return -EIO;
  }
  rc = jh_csv_writer_commit(t->w); /* frees the writer, whatever happens */
  t->w = NULL;
  if (rc != 0)
    t->failed = 1;
  return rc;
}

/* ---- cookie ---- */

static int cookie_path(const jh_task_state *st, char *buf, size_t size) {
  const char *conn = st->ctx.connection;
  if (conn == NULL || strchr(conn, '/') != NULL || conn[0] == '.')
    return -ENOENT;
  if ((size_t)snprintf(buf, size, "%s/%s.cookie",
                       st->env->home->folders[JOBHOST_FOLDER_EXPORT_COOKIES],
                       conn) >= size)
    return -ENAMETOOLONG;
  return 0;
}

static int ignores_cookie(jobhost_ctx *ctx) {
  const char *v = svc_param(ctx, JOBHOST_PARAM_NAME_IGNORE_COOKIE);
  return v != NULL && strcmp(v, "true") == 0;
}

static int svc_cookie_get(jobhost_ctx *ctx, const void **data, size_t *size) {
  jh_task_state *st = state_of(ctx);
  char path[PATH_MAX];
  struct stat sb;
  int fd, rc;

  if (st->validating || ignores_cookie(ctx) ||
      cookie_path(st, path, sizeof(path)) != 0)
    return -ENOENT;
  if (!st->cookie_in_loaded) {
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return errno == ENOENT ? -ENOENT : -errno;
    if (fstat(fd, &sb) != 0 || sb.st_size > 16 * 1024 * 1024) {
      close(fd);
      return -EFBIG;
    }
    st->cookie_in = malloc((size_t)sb.st_size + 1);
    if (st->cookie_in == NULL) {
      close(fd);
      return -ENOMEM;
    }
    rc = (int)read(fd, st->cookie_in, (size_t)sb.st_size);
    close(fd);
    if (rc != (int)sb.st_size)
      return -EIO;
    st->cookie_in_len = (size_t)sb.st_size;
    st->cookie_in_loaded = 1;
  }
  *data = st->cookie_in;
  *size = st->cookie_in_len;
  return 0;
}

static int svc_cookie_set(jobhost_ctx *ctx, const void *data, size_t size) {
  jh_task_state *st = state_of(ctx);
  void *copy;
  char path[PATH_MAX];
  if (st->validating)
    return -EPERM;
  if (cookie_path(st, path, sizeof(path)) != 0)
    return -ENOENT;
  copy = malloc(size ? size : 1);
  if (copy == NULL)
    return -ENOMEM;
  memcpy(copy, data, size);
  free(st->cookie_out);
  st->cookie_out = copy;
  st->cookie_out_len = size;
  st->cookie_out_set = 1;
  return 0;
}

/* ---- read access (ABI 1.2) ---- */

static jh_readstore *readstore(jh_task_state *st) {
  if (st->rs == NULL) {
    const jh_task_env *env = st->env;
    /* no store in validate: the model only */
    (void)jh_readstore_new(env->pipeline->model,
                           env->home != NULL ? env->home->identity_store_path
                                             : NULL,
                           &st->rs);
  }
  return st->rs;
}

static size_t svc_entity_types(jobhost_ctx *ctx, unsigned flags,
                               const jobhost_entity_type *const **out) {
  jh_readstore *rs = readstore(state_of(ctx));
  *out = NULL;
  if (rs == NULL)
    return 0;
  return jh_readstore_entity_types(rs, ctx->connector,
                                   (flags & JOBHOST_READ_CONNECTOR) != 0,
                                   (const jobhost_entity_type *const **)out);
}

static const jobhost_entity_type *svc_entity_type(jobhost_ctx *ctx,
                                                  const char *name) {
  jh_readstore *rs = readstore(state_of(ctx));
  return rs != NULL ? jh_readstore_entity_type(rs, name) : NULL;
}

static int svc_resources_open(jobhost_ctx *ctx, const char *name,
                              unsigned flags, jobhost_cursor **out) {
  jh_task_state *st = state_of(ctx);
  jh_readstore *rs;
  char err[512] = "";
  int rc;

  *out = NULL;
  if (st->validating)
    return -EPERM;
  rs = readstore(st);
  if (rs == NULL)
    return -ENOMEM;
  rc = jh_readstore_open(rs, name, ctx->connector,
                         (flags & JOBHOST_READ_CONNECTOR) != 0, out, err,
                         sizeof(err));
  if (rc != 0 && err[0] != '\0')
    svc_log(ctx, JOBHOST_LOG_ERROR, "%s", err);
  return rc;
}

/* ---- commit or discard the all-or-nothing effects ---- */

static int commit_effects(jh_task_state *st) {
  const char *out_dir = st->env->home->folders[JOBHOST_FOLDER_EXPORT_OUTPUT];
  char path[PATH_MAX];
  jh_export_file *files;
  size_t n = 0;
  int rc;

  for (struct jobhost_table *t = st->tables; t != NULL; t = t->next) {
    if (!t->closed || t->failed)
      return -EIO; /* a table left open or broken: nothing is published */
    n++;
  }
  if (n > 0) {
    files = calloc(n, sizeof(*files));
    if (files == NULL)
      return -ENOMEM;
    n = 0;
    for (struct jobhost_table *t = st->tables; t != NULL; t = t->next) {
      files[n].name = t->name;
      files[n].tmp_path = t->tmp_path;
      n++;
    }
    rc = jh_export_output_publish(out_dir, st->ctx.connection, files, n);
    free(files);
    if (rc != 0)
      return rc;
  }
  if (st->cookie_out_set) {
    rc = cookie_path(st, path, sizeof(path));
    if (rc == 0)
      rc = jh_write_file_atomic(path, st->cookie_out, st->cookie_out_len, 0640);
    if (rc != 0)
      return rc;
  }
  return 0;
}

static void release_effects(jh_task_state *st, int discard) {
  struct jobhost_table *t = st->tables;
  while (t != NULL) {
    struct jobhost_table *next = t->next;
    if (discard)
      unlink(t->tmp_path);
    table_free(t);
    t = next;
  }
  st->tables = NULL;
  free(st->cookie_in);
  free(st->cookie_out);
  jh_readstore_free(st->rs); /* ends the read snapshot */
  st->rs = NULL;
  while (st->splits != NULL) {
    struct split *next = st->splits->next;
    for (size_t i = 0; i < st->splits->n; i++)
      free(st->splits->items[i]);
    free(st->splits->items);
    free(st->splits);
    st->splits = next;
  }
}

static const jobhost_services services = {
    .struct_size = sizeof(jobhost_services),
    .abi_major = JOBHOST_ABI_MAJOR,
    .abi_minor = JOBHOST_ABI_MINOR,
    .host_version = PACKAGE_VERSION,
    .log = svc_log,
    .progress = svc_progress,
    .counter_add = svc_counter_add,
    .counter_set = svc_counter_set,
    .set_produced_output = svc_set_produced_output,
    .set_message = svc_set_message,
    .is_cancelled = svc_is_cancelled,
    .folder = svc_folder,
    .param = svc_param,
    .param_list = svc_param_list,
    .setting = svc_setting,
    .secret = svc_secret,
    .table_open = svc_table_open,
    .table_write = svc_table_write,
    .table_close = svc_table_close,
    .cookie_get = svc_cookie_get,
    .cookie_set = svc_cookie_set,
    .connection_package = svc_connection_package,
    .host_object = svc_host_object,
    .param_int = svc_param_int,
    .param_bool = svc_param_bool,
    .param_duration = svc_param_duration,
    .setting_list = svc_setting_list,
    .entity_types = svc_entity_types,
    .entity_type = svc_entity_type,
    .resources_open = svc_resources_open,
    .resources_next = jh_readstore_next,
    .resources_close = jh_readstore_close,
};

/* The connector a task belongs to: its `connector`, else its
 * connection's (ctx->connector, ABI 1.2). */
static const char *task_connector(const jh_pipeline *p, const jh_task_def *d,
                                  const char *connection) {
  const jh_value *v = d != NULL ? jh_task_value(d, JOBHOST_PARAM_NAME_CONNECTOR)
                                : NULL;
  const jh_connection *c;
  if (v != NULL && v->text != NULL)
    return v->text;
  c = connection != NULL ? jh_model_connection(p->model, connection) : NULL;
  return c != NULL ? c->connector : NULL;
}

int jh_task_execute(const jh_task_env *env) {
  jh_task_state st;
  int32_t rc;

  memset(&st, 0, sizeof(st));
  st.env = env;
  st.ctx.struct_size = sizeof(st.ctx);
  st.ctx.svc = &services;
  st.ctx.task_id = env->def->id;
  st.ctx.task_type = env->def->type;
  st.ctx.host_private = &st;
  st.ctx.force = env->force;
  st.ctx.resume_of = env->resume_of;
  st.ctx.task_instance = env->task_instance;
  {
    const jh_value *conn = jh_task_value(env->def,
                                         JOBHOST_PARAM_NAME_CONNECTION);
    st.ctx.connection = conn != NULL ? conn->text : NULL;
  }
  st.ctx.connector = task_connector(env->pipeline, env->def, st.ctx.connection);

  rc = env->def->task_type->run(&st.ctx);
  if (rc == 0) {
    int crc = commit_effects(&st);
    if (crc != 0) {
      svc_set_message(&st.ctx, "could not publish the task's output: %s",
                      jobhost_strerror(crc));
      rc = crc;
    }
  }
  release_effects(&st, rc != 0);
  emit(env, JH_WIRE_RESULT, &rc, sizeof(rc), NULL, 0);
  return rc;
}

/* ---- validate (ABI 1.2) ---- */

/* Call fn with a validation context for task def (or, def NULL, for
 * connection `connection`); an error in diags at loc when it refuses. */
static int validate_one(const jh_pipeline *p, const jh_task_def *def,
                        const char *connection, jobhost_validate_fn fn,
                        const char *file, int line, int column,
                        const char *what, jh_diags *diags) {
  jh_task_env env;
  jh_task_state st;
  int rc;

  memset(&env, 0, sizeof(env));
  env.def = def;
  env.pipeline = p;
  env.fd = -1;
  memset(&st, 0, sizeof(st));
  st.env = &env;
  st.validating = 1;
  st.ctx.struct_size = sizeof(st.ctx);
  st.ctx.svc = &services;
  st.ctx.task_id = def != NULL ? def->id : NULL;
  st.ctx.task_type = def != NULL ? def->type : NULL;
  st.ctx.host_private = &st;
  st.ctx.connection = connection;
  st.ctx.connector = task_connector(p, def, connection);
  rc = fn(&st.ctx);
  release_effects(&st, 1);
  if (rc == 0)
    return 0;
  jh_diag_add(diags, JH_DIAG_ERROR, file, line, column, "%s: %s", what,
              st.message[0] != '\0' ? st.message : jobhost_strerror(rc));
  return JOBHOST_ECONFIG;
}

int jh_pipeline_validate(const jh_pipeline *p, jh_diags *diags) {
  const jh_model *m = p->model;
  char what[256];
  int rc = 0;

  for (size_t i = 0; i < p->ntasks; i++) {
    const jh_task_def *d = &p->tasks[i];
    const jh_value *conn = jh_task_value(d, JOBHOST_PARAM_NAME_CONNECTION);
    if (d->task_type == NULL || d->task_type->validate == NULL)
      continue;
    snprintf(what, sizeof(what), "task '%s' (%s)", d->id, d->type);
    if (validate_one(p, d, conn != NULL ? conn->text : NULL,
                     d->task_type->validate, d->loc.file, d->loc.line,
                     d->loc.column, what, diags) != 0)
      rc = JOBHOST_ECONFIG;
  }
  for (size_t i = 0; p->packages != NULL && i < m->nconnections; i++) {
    const jobhost_package *pkg = p->packages[i];
    const jh_connection *c = &m->connections[i];
    if (pkg == NULL || pkg->validate == NULL || c->id == NULL)
      continue;
    snprintf(what, sizeof(what), "connection '%s' (package %s)", c->id,
             pkg->name);
    if (validate_one(p, NULL, c->id, pkg->validate, c->loc.file, c->loc.line,
                     c->loc.column, what, diags) != 0)
      rc = JOBHOST_ECONFIG;
  }
  return rc;
}
