/*
 * faults.c — the fault injection harness (doc/faults.md).
 *
 * A synchronization in three phases (a first load, small changes, a 10%
 * deletion), each `jobhost run`, then `jobhost resume` when the
 * thresholds block it, is first run cleanly as the reference. Then every
 * iteration replays it from an empty home with one fault in one command,
 * chosen from the iteration's seed:
 *
 *   - kill -9 of the host, the fork server or a worker after a delay
 *     drawn up to that command's clean duration;
 *   - a fault point (lib/faultpoint.h, JOBHOST_FAULT=name[:N]) killing
 *     the worker that reaches it, or the host with --isolation none;
 *   - with -e, ENOSPC at the N-th write of the command (tests/faults/
 *     enospc.c, LD_PRELOAD), N going over every write the command makes.
 *
 * After the fault the harness does what an operator does: `resume` when
 * the job's last instance is Blocked or Interrupted, else `run` again,
 * until the phase succeeds; then the remaining phases run. After every
 * phase it checks the invariants:
 *
 *   store        the identity store equals the reference's (a canonical
 *                dump: resources with their decoded values, links)
 *   reports      every applied change is in exactly one change report
 *                (reports of Blocked attempts list held changes and are
 *                left out)
 *   held         no held row outside a resumable Blocked attempt, none
 *                at all once the phase succeeded
 *   leftovers    no temporary file, spill, journal, sort folder, task
 *                folder or unconsumed batch
 *   history      the last instance Succeeded, none left Running; each
 *                Succeeded synchronization's counters equal its report,
 *                and they add up to the changes the store received
 *
 * and, after an ENOSPC: a non-zero exit with the error on stderr, and
 * the store either as before the command or as the reference after it.
 *
 * Usage: faults [-n ITERATIONS] [-e ENOSPC_ITERATIONS|-E|-W N] [-k]
 *   SEED=n   the first iteration's seed (the next ones n+1, ...); every
 *            iteration prints its seed: SEED=n faults -n 1 replays it
 *   -E       ENOSPC at every write of every command (all of them)
 *   -W N     ENOSPC at the N-th write only (as printed: W=N)
 *   -k       keep every iteration's folder (failed ones are always kept)
 *   -v       print every jobhost command and its exit status
 * Environment as in make check: JH_JOBHOST, JH_BUILTIN_PLUGIN_DIR, and
 * JH_ENOSPC_SHIM for -e/-E. FAULTS_SKIP leaves faults out (see skipped()).
 * Exit status: 0 when every invariant held, 1 otherwise, 2 bad usage.
 */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <sqlite3.h>

#include "idstore.h"

#define NPHASES 3
#define MAXSTEPS 8
#define MAXTRIES 8

/* ------------------------------------------------------------ utilities */

/* A command still running after this long is taken as hung. */
#define HANG_S 120

static const char *jobhost_bin, *plugin_dir, *shim_path;
static char enospc_ignore[512]; /* FAULTS_SKIP's enospc:TEXT, for the shim */
static int keep_all, verbose;

static void die(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "faults: ");
  vfprintf(stderr, fmt, ap);
  fprintf(stderr, "\n");
  va_end(ap);
  exit(2);
}

static char *xstrdup(const char *s) {
  char *d = strdup(s);
  if (d == NULL)
    die("out of memory");
  return d;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* splitmix64: the same seed gives the same iteration everywhere. */
static uint64_t rng_state;
static uint64_t rng_next(void) {
  uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}
static long rng_below(long n) { return n > 0 ? (long)(rng_next() % n) : 0; }

/* A growable list of strings (owned). */
typedef struct strlist {
  char **v;
  size_t n, cap;
} strlist;

static void sl_add(strlist *l, const char *s) {
  if (l->n == l->cap) {
    l->cap = l->cap ? 2 * l->cap : 64;
    l->v = realloc(l->v, l->cap * sizeof(*l->v));
    if (l->v == NULL)
      die("out of memory");
  }
  l->v[l->n++] = xstrdup(s);
}

static void sl_free(strlist *l) {
  for (size_t i = 0; i < l->n; i++)
    free(l->v[i]);
  free(l->v);
  memset(l, 0, sizeof(*l));
}

static int cmp_str(const void *a, const void *b) {
  return strcmp(*(char *const *)a, *(char *const *)b);
}
static void sl_sort(strlist *l) {
  if (l->n > 1)
    qsort(l->v, l->n, sizeof(*l->v), cmp_str);
}

static void write_text(const char *path, const char *text) {
  FILE *f = fopen(path, "w");
  if (f == NULL || fputs(text, f) == EOF || fclose(f) != 0)
    die("%s: %s", path, strerror(errno));
}

static void rmtree(const char *dir) {
  DIR *d = opendir(dir);
  struct dirent *e;
  if (d == NULL) {
    unlink(dir);
    return;
  }
  while ((e = readdir(d)) != NULL) {
    char p[PATH_MAX];
    struct stat st;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
      rmtree(p);
    else
      unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

/* ---------------------------------------------------- the synchronization */

static const char model_yaml[] =
    "version: 1\n"
    "connectors:\n"
    "  - id: HR\n"
    "connections:\n"
    "  - {id: HR_People, connector: HR, package: csv,"
    " settings: {path: people.csv}}\n"
    "  - {id: HR_Peers, connector: HR, package: csv,"
    " settings: {path: peers.csv}}\n"
    "entity_types:\n"
    "  - id: HR_Person\n"
    "    properties:\n"
    "      - {id: employee_id, type: string}\n"
    "      - {id: name, type: string}\n"
    "      - {id: title, type: string}\n"
    "      - {id: peers, type: links, target: HR_Person}\n"
    "entity_type_mappings:\n"
    "  - entity_type: HR_Person\n"
    "    connector: HR\n"
    "    connection_table: HR_People\n"
    "    properties:\n"
    "      - {property: employee_id, column: Id, primary_key: true}\n"
    "      - {property: name, column: Name}\n"
    "      - {property: title, column: Title}\n"
    "association_mappings:\n"
    "  - {id: HR_Person_peers, connector: HR, connection_table: HR_Peers,"
    " entity_type: HR_Person, property: peers, column1: Id,"
    " column2: Peer}\n";

static const char pipeline_yaml[] =
    "version: 1\n"
    "include: [model.yaml]\n"
    "job:\n"
    "  id: Job_Faults\n"
    "  max_parallel: 2\n"
    "  tasks:\n"
    "    - {id: ExportPeople, type: ExportTask, level: 0,"
    " connection: HR_People, ignore_cookie_file: true}\n"
    "    - {id: ExportPeers, type: ExportTask, level: 0,"
    " connection: HR_Peers, ignore_cookie_file: true}\n"
    "    - {id: Prepare, type: PrepareSynchronizationTask, level: 1,"
    " connector: HR, synchronization_mode: Complete,"
    " depends_on: [ExportPeople, ExportPeers]}\n"
    "    - {id: Sync, type: SynchronizeTask, level: 2, connector: HR,"
    " depends_on: [Prepare]}\n";

#define NPEOPLE 302

/* Whether person i exists in phase p: 300 people; then 2 leave and 2
 * arrive; then every tenth leaves (over the 5% threshold). */
static int person_in(int p, int i) {
  if (p == 0)
    return i < 300;
  if (i == 298 || i == 299)
    return 0;
  if (p == 2 && i % 10 == 5)
    return 0;
  return 1;
}

static void write_sources(const char *dir, int p) {
  char path[PATH_MAX];
  FILE *f;
  snprintf(path, sizeof(path), "%s/people.csv", dir);
  if ((f = fopen(path, "w")) == NULL)
    die("%s: %s", path, strerror(errno));
  fprintf(f, "Id,Name,Title\n");
  for (int i = NPEOPLE - 1; i >= 0; i--) /* not in key order */
    if (person_in(p, i))
      fprintf(f, "E%05d,\"Doe, J%d\",%s\n", i, i,
              p > 0 && i % 100 == 0 ? "Lead" : "Clerk");
  if (fclose(f) != 0)
    die("%s: %s", path, strerror(errno));
  snprintf(path, sizeof(path), "%s/peers.csv", dir);
  if ((f = fopen(path, "w")) == NULL)
    die("%s: %s", path, strerror(errno));
  fprintf(f, "Id,Peer\n");
  for (int i = 0; i < NPEOPLE; i++) {
    if (!person_in(p, i))
      continue;
    if (i + 1 < NPEOPLE && person_in(p, i + 1))
      fprintf(f, "E%05d,E%05d\n", i, i + 1);
    if (i % 3 == 0 && i + 7 < NPEOPLE && person_in(p, i + 7))
      fprintf(f, "E%05d,E%05d\n", i, i + 7);
  }
  if (fclose(f) != 0)
    die("%s: %s", path, strerror(errno));
}

/* ------------------------------------------------------ running jobhost */

typedef enum { K_NONE, K_HOST, K_FORKSERVER, K_WORKER } kill_target;
static const char *const target_names[] = {"none", "host", "fork server",
                                           "worker"};

typedef struct fault {
  kill_target target; /* a timed kill */
  long delay_ms;
  const char *point; /* or a fault point */
  int nth;
  int isolation_none;
  long enospc_at; /* or ENOSPC at this write (1-based) */
} fault;

typedef struct outcome {
  int status; /* exit status, or 128 + signal */
  long ms;
  char what[600]; /* what the fault did */
  long writes;    /* writes counted by the ENOSPC shim */
  int hung;       /* still running after HANG_S: killed */
} outcome;

/* The parent of pid, or -1. */
static pid_t parent_of(pid_t pid) {
  char path[64], buf[512], *p;
  FILE *f;
  size_t n;
  int ppid = -1;
  snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
  if ((f = fopen(path, "r")) == NULL)
    return -1;
  n = fread(buf, 1, sizeof(buf) - 1, f);
  fclose(f);
  buf[n] = '\0';
  p = strrchr(buf, ')');
  if (p == NULL || sscanf(p + 1, " %*c %d", &ppid) != 1)
    return -1;
  return ppid;
}

/* Whether pid blocks SIGCHLD: the fork server does (it takes it through a
 * signalfd), a plugin probe or a worker does not. */
static int blocks_sigchld(pid_t pid) {
  char path[64], line[256];
  FILE *f;
  int yes = 0;
  snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
  if ((f = fopen(path, "r")) == NULL)
    return 0;
  while (fgets(line, sizeof(line), f) != NULL) {
    unsigned long long mask;
    if (sscanf(line, "SigBlk: %llx", &mask) == 1) {
      yes = (mask >> (SIGCHLD - 1)) & 1;
      break;
    }
  }
  fclose(f);
  return yes;
}

/* A child of parent (the fork server's when want_server), or 0. */
static pid_t find_child(pid_t parent, int want_server) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  pid_t found = 0;
  if (d == NULL)
    return 0;
  while (found == 0 && (e = readdir(d)) != NULL) {
    char *end;
    long pid = strtol(e->d_name, &end, 10);
    if (*end != '\0' || pid <= 0 || parent_of((pid_t)pid) != parent)
      continue;
    if (!want_server || blocks_sigchld((pid_t)pid))
      found = (pid_t)pid;
  }
  closedir(d);
  return found;
}

static pid_t find_target(pid_t host, kill_target t) {
  pid_t server;
  if (t == K_HOST)
    return host;
  server = find_child(host, 1);
  if (t == K_FORKSERVER || server == 0)
    return server;
  return find_child(server, 0);
}

/* Wait for pid, at most HANG_S seconds: then it is killed (with its
 * process group's other members gone with it: the fork server and the
 * workers die with the host) and -1 returned. */
static int wait_bounded(pid_t pid, int *status) {
  int64_t until = now_ms() + HANG_S * 1000L;
  for (;;) {
    pid_t got = waitpid(pid, status, WNOHANG);
    if (got == pid)
      return 0;
    if (got < 0)
      die("waitpid: %s", strerror(errno));
    if (now_ms() > until) {
      kill(pid, SIGKILL);
      if (waitpid(pid, status, 0) != pid)
        die("waitpid: %s", strerror(errno));
      return -1;
    }
    sleep_ms(2);
  }
}

/* Run jobhost with argv (after the program name), the fault applied;
 * stdout and stderr go to files in dir. */
static void run_jobhost(const char *dir, const char *const *args,
                        const fault *f, outcome *o) {
  char out[PATH_MAX], err[PATH_MAX], count[PATH_MAX], faultenv[200];
  const char *argv[24];
  size_t n = 0;
  int64_t start = now_ms();
  int status;
  pid_t pid;

  argv[n++] = jobhost_bin;
  for (size_t i = 0; args[i] != NULL && n < 20; i++)
    argv[n++] = args[i];
  if (f != NULL && f->isolation_none) {
    argv[n++] = "--isolation";
    argv[n++] = "none";
  }
  argv[n] = NULL;
  if (f != NULL && f->enospc_at >= 0) {
    /* the shim's counter, shared by the host and its workers */
    static const uint64_t zero = 0;
    int fd;
    snprintf(count, sizeof(count), "%s/enospc.count", dir);
    fd = open(count, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0 || write(fd, &zero, sizeof(zero)) != sizeof(zero) ||
        close(fd) != 0)
      die("%s: %s", count, strerror(errno));
  }
  snprintf(out, sizeof(out), "%s/stdout", dir);
  snprintf(err, sizeof(err), "%s/stderr", dir);
  memset(o, 0, sizeof(*o));
  fflush(NULL);
  pid = fork();
  if (pid < 0)
    die("fork: %s", strerror(errno));
  if (pid == 0) {
    int ofd = open(out, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int efd = open(err, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (ofd < 0 || efd < 0 || dup2(ofd, 1) < 0 || dup2(efd, 2) < 0)
      _exit(126);
    unsetenv("JOBHOST_FAULT");
    unsetenv("LD_PRELOAD");
    if (f != NULL && f->point != NULL) {
      snprintf(faultenv, sizeof(faultenv), "%s:%d", f->point, f->nth);
      setenv("JOBHOST_FAULT", faultenv, 1);
    }
    if (f != NULL && f->enospc_at >= 0) {
      char at[32];
      snprintf(at, sizeof(at), "%ld", f->enospc_at);
      setenv("JH_ENOSPC_AT", at, 1);
      setenv("JH_ENOSPC_COUNT", count, 1);
      setenv("JH_ENOSPC_IGNORE", enospc_ignore, 1);
      setenv("LD_PRELOAD", shim_path, 1);
    }
    execv(argv[0], (char *const *)argv);
    _exit(127);
  }
  if (f != NULL && f->target != K_NONE) {
    int64_t due = start + f->delay_ms;
    pid_t victim = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
      if (now_ms() >= due && (victim = find_target(pid, f->target)) > 0) {
        kill(victim, SIGKILL);
        break;
      }
      sleep_ms(1);
    }
    if (victim > 0)
      snprintf(o->what, sizeof(o->what), "killed the %s at %lld ms",
               target_names[f->target], (long long)(now_ms() - start));
    else
      snprintf(o->what, sizeof(o->what), "no %s to kill after %ld ms",
               target_names[f->target], f->delay_ms);
    if (victim == 0) {
      o->status = WIFEXITED(status) ? WEXITSTATUS(status)
                                    : 128 + WTERMSIG(status);
      o->ms = (long)(now_ms() - start);
      return;
    }
  }
  if (wait_bounded(pid, &status) != 0)
    o->hung = 1;
  o->ms = (long)(now_ms() - start);
  if (verbose)
    fprintf(stderr, "faults:     jobhost %s %s -> %d%s%s (%ld ms)\n", args[0],
            args[1],
            WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status),
            o->what[0] ? ", " : "", o->what, o->ms);
  if (f != NULL && f->enospc_at >= 0) {
    uint64_t v = 0;
    char failed[512];
    ssize_t got;
    int fd = open(count, O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && read(fd, &v, sizeof(v)) == sizeof(v))
      o->writes = (long)v;
    if (fd >= 0 && (got = read(fd, failed, sizeof(failed) - 1)) > 0) {
      failed[got] = '\0';
      snprintf(o->what, sizeof(o->what), "failed a write to %s",
               strncmp(failed, dir, strlen(dir)) == 0 ? failed + strlen(dir) + 1
                                                      : failed);
    }
    if (fd >= 0)
      close(fd);
  }
  o->status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

/* --------------------------------------------------------- an iteration */

typedef struct iter {
  char dir[1024]; /* the pipeline and its sources */
  char home[1100];
  char pipeline[1100];
  char failure[2048]; /* the first invariant that failed */
} iter;

static int failf(iter *it, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int failf(iter *it, const char *fmt, ...) {
  va_list ap;
  if (it->failure[0] != '\0')
    return -1;
  va_start(ap, fmt);
  vsnprintf(it->failure, sizeof(it->failure), fmt, ap);
  va_end(ap);
  return -1;
}

static void iter_init(iter *it, const char *root, const char *name) {
  memset(it, 0, sizeof(*it));
  snprintf(it->dir, sizeof(it->dir), "%s/%s", root, name);
  snprintf(it->home, sizeof(it->home), "%s/home", it->dir);
  snprintf(it->pipeline, sizeof(it->pipeline), "%s/pipeline.yaml", it->dir);
  rmtree(it->dir);
  if (mkdir(it->dir, 0700) != 0)
    die("%s: %s", it->dir, strerror(errno));
  {
    char p[PATH_MAX + 16];
    snprintf(p, sizeof(p), "%s/model.yaml", it->dir);
    write_text(p, model_yaml);
  }
  write_text(it->pipeline, pipeline_yaml);
}

/* `jobhost history --json`: the state of the job's last instance (NULL
 * when none; static storage) and its number; -1 when a Running instance
 * is left, with the failure set. */
static const char *last_instance(iter *it, long *inst, int *running) {
  static char state[32];
  const char *args[] = {"history", "--home", it->home, "--json", NULL};
  char out[PATH_MAX + 16];
  json_error_t e;
  json_t *a, *v;
  size_t i;
  outcome o;

  *inst = 0;
  *running = 0;
  run_jobhost(it->dir, args, NULL, &o);
  snprintf(out, sizeof(out), "%s/stdout", it->dir);
  if (o.hung || o.status != 0 || (a = json_load_file(out, 0, &e)) == NULL) {
    failf(it, "history: `jobhost history --json` exited %d", o.status);
    return NULL;
  }
  state[0] = '\0';
  json_array_foreach(a, i, v) {
    const char *s = json_string_value(json_object_get(v, "state"));
    if (s != NULL && strcmp(s, "Running") == 0)
      (*running)++;
    if (i == 0 && s != NULL) {
      snprintf(state, sizeof(state), "%s", s);
      *inst = (long)json_integer_value(json_object_get(v, "instance"));
    }
  }
  json_decref(a);
  return state[0] ? state : NULL;
}

/* ---- the identity store, as canonical text ---- */

typedef struct dump_ctx {
  char **names; /* property names by number */
  size_t nnames;
  strlist vals;
} dump_ctx;

static int dump_value(void *arg, uint32_t prop, const char *v, size_t len) {
  dump_ctx *c = arg;
  char buf[1024];
  snprintf(buf, sizeof(buf), "%s=%.*s",
           prop < c->nnames && c->names[prop] ? c->names[prop] : "?", (int)len,
           v);
  sl_add(&c->vals, buf);
  return 0;
}

static sqlite3 *open_db(const char *home, const char *name) {
  char path[PATH_MAX + 32];
  sqlite3 *db = NULL;
  snprintf(path, sizeof(path), "%s/%s", home, name);
  if (access(path, F_OK) != 0)
    return NULL;
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK) {
    sqlite3_close(db);
    return NULL;
  }
  sqlite3_busy_timeout(db, 10000);
  return db;
}

/* The store's resources and links as sorted lines, "" when no store. */
static char *store_dump(const char *home) {
  sqlite3 *db = open_db(home, "identity.db");
  sqlite3_stmt *q;
  dump_ctx c;
  strlist lines = {0};
  size_t size = 1;
  char *text;

  memset(&c, 0, sizeof(c));
  if (db != NULL && sqlite3_prepare_v2(db, "SELECT id, name FROM properties",
                                       -1, &q, NULL) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      size_t id = (size_t)sqlite3_column_int64(q, 0);
      if (id >= c.nnames) {
        c.names = realloc(c.names, (id + 1) * sizeof(*c.names));
        if (c.names == NULL)
          die("out of memory");
        memset(c.names + c.nnames, 0, (id + 1 - c.nnames) * sizeof(char *));
        c.nnames = id + 1;
      }
      c.names[id] = xstrdup((const char *)sqlite3_column_text(q, 1));
    }
    sqlite3_finalize(q);
  }
  if (db != NULL &&
      sqlite3_prepare_v2(db,
                         "SELECT e.name, r.key, r.dirty, r.data FROM "
                         "resources r JOIN entity_types e ON "
                         "e.id = r.entity_type",
                         -1, &q, NULL) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      char line[4096];
      size_t len;
      c.vals.n = 0;
      jh_idstore_decode(sqlite3_column_blob(q, 3), sqlite3_column_bytes(q, 3),
                        dump_value, &c);
      sl_sort(&c.vals);
      len = (size_t)snprintf(line, sizeof(line), "resource %s %s dirty=%d",
                             sqlite3_column_text(q, 0),
                             sqlite3_column_text(q, 1),
                             sqlite3_column_int(q, 2));
      for (size_t i = 0; i < c.vals.n && len < sizeof(line); i++) {
        len += (size_t)snprintf(line + len, sizeof(line) - len, " %s",
                                c.vals.v[i]);
        free(c.vals.v[i]);
      }
      c.vals.n = 0;
      sl_add(&lines, line);
    }
    sqlite3_finalize(q);
  }
  if (db != NULL &&
      sqlite3_prepare_v2(db,
                         "SELECT association, value1, value2, connector "
                         "FROM links",
                         -1, &q, NULL) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      char line[1024];
      snprintf(line, sizeof(line), "link %s %s %s %s",
               sqlite3_column_text(q, 0), sqlite3_column_text(q, 1),
               sqlite3_column_text(q, 2), sqlite3_column_text(q, 3));
      sl_add(&lines, line);
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  sl_sort(&lines);
  for (size_t i = 0; i < lines.n; i++)
    size += strlen(lines.v[i]) + 1;
  text = malloc(size);
  if (text == NULL)
    die("out of memory");
  text[0] = '\0';
  for (size_t i = 0, off = 0; i < lines.n; i++) {
    size_t l = strlen(lines.v[i]);
    memcpy(text + off, lines.v[i], l);
    text[off + l] = '\n';
    off += l + 1;
    text[off] = '\0';
  }
  sl_free(&lines);
  sl_free(&c.vals);
  for (size_t i = 0; i < c.nnames; i++)
    free(c.names[i]);
  free(c.names);
  return text;
}

/* The first line where two dumps differ, for the message. */
static void dump_diff(const char *a, const char *b, char *buf, size_t size) {
  while (*a && *a == *b) {
    const char *na = strchr(a, '\n'), *nb = strchr(b, '\n');
    if (na == NULL || nb == NULL || na - a != nb - b ||
        strncmp(a, b, (size_t)(na - a)) != 0)
      break;
    a = na + 1;
    b = nb + 1;
  }
  snprintf(buf, size, "got '%.*s', want '%.*s'", (int)strcspn(a, "\n"), a,
           (int)strcspn(b, "\n"), b);
}

/* ---- the job store: synchronization attempts ---- */

typedef struct attempt {
  long id, job_instance;
  char state[24];
  char report[PATH_MAX]; /* its change report's path */
  long counts[5];        /* inserted updated deleted link_ins link_del */
} attempt;

static const char *const count_names[5] = {"inserted", "updated", "deleted",
                                           "link_inserted", "link_deleted"};
static const char *const change_names[5] = {"insert,", "update,", "delete,",
                                            "link_insert,", "link_delete,"};

/* Every SynchronizeTask attempt, from jobhost.db. */
static attempt *sync_attempts(const char *home, size_t *n) {
  sqlite3 *db = open_db(home, "jobhost.db");
  sqlite3_stmt *q;
  attempt *a = NULL;
  size_t cap = 0;
  *n = 0;
  if (db == NULL)
    return NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT id, job_instance, state, log_path, "
                         "counters_json FROM task_instances WHERE "
                         "task_type = 'SynchronizeTask' ORDER BY id",
                         -1, &q, NULL) == SQLITE_OK) {
    while (sqlite3_step(q) == SQLITE_ROW) {
      const char *log = (const char *)sqlite3_column_text(q, 3);
      const char *cj = (const char *)sqlite3_column_text(q, 4);
      attempt *t;
      if (*n == cap) {
        cap = cap ? 2 * cap : 8;
        if ((a = realloc(a, cap * sizeof(*a))) == NULL)
          die("out of memory");
      }
      t = &a[(*n)++];
      memset(t, 0, sizeof(*t));
      t->id = sqlite3_column_int64(q, 0);
      t->job_instance = sqlite3_column_int64(q, 1);
      snprintf(t->state, sizeof(t->state), "%s", sqlite3_column_text(q, 2));
      if (log != NULL) {
        size_t l = strlen(log);
        if (l > 4 && strcmp(log + l - 4, ".log") == 0)
          l -= 4;
        snprintf(t->report, sizeof(t->report), "%.*s.changes.csv", (int)l, log);
      }
      if (cj != NULL) {
        json_t *j = json_loads(cj, 0, NULL);
        for (int k = 0; k < 5; k++)
          t->counts[k] = (long)json_integer_value(
              json_object_get(j, count_names[k]));
        json_decref(j);
      }
    }
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return a;
}

static const attempt *attempt_by_report(const attempt *a, size_t n,
                                        const char *path) {
  for (size_t i = 0; i < n; i++)
    if (strcmp(a[i].report, path) == 0)
      return &a[i];
  return NULL;
}

/* The lines of a change report (header left out); -1 when unreadable. */
static int read_report(const char *path, strlist *lines) {
  FILE *f = fopen(path, "r");
  char buf[4096];
  int first = 1;
  if (f == NULL)
    return -1;
  while (fgets(buf, sizeof(buf), f) != NULL) {
    buf[strcspn(buf, "\r\n")] = '\0';
    if (!first)
      sl_add(lines, buf);
    first = 0;
  }
  fclose(f);
  return 0;
}

/* Whether task instance ti held changes: recorded Blocked, or named as
 * holding in the identity store's `holds` (a store without that table
 * has only the recorded state to go by). */
static int held_by(const char *home, const attempt *t) {
  sqlite3 *db;
  sqlite3_stmt *q;
  int yes = 0;
  if (strcmp(t->state, "Blocked") == 0)
    return 1;
  if ((db = open_db(home, "identity.db")) == NULL)
    return 0;
  if (sqlite3_prepare_v2(db, "SELECT 1 FROM holds WHERE task_instance = ?1", -1,
                         &q, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(q, 1, t->id);
    yes = sqlite3_step(q) == SQLITE_ROW;
    sqlite3_finalize(q);
  }
  sqlite3_close(db);
  return yes;
}

/* The change lines of every report that records applied changes: all of
 * Temp/JobLogs/ but the reports of attempts that held their changes
 * (those list what would have changed). */
static void applied_changes(const char *home, strlist *out) {
  char dir[PATH_MAX];
  size_t n;
  attempt *a = sync_attempts(home, &n);
  DIR *d;
  struct dirent *e;
  snprintf(dir, sizeof(dir), "%s/Temp/JobLogs", home);
  if ((d = opendir(dir)) != NULL) {
    while ((e = readdir(d)) != NULL) {
      char p[PATH_MAX + 256];
      size_t l = strlen(e->d_name);
      const attempt *t;
      if (l < 12 || strcmp(e->d_name + l - 12, ".changes.csv") != 0)
        continue;
      snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
      t = attempt_by_report(a, n, p);
      if (t != NULL && held_by(home, t))
        continue;
      read_report(p, out);
    }
    closedir(d);
  }
  free(a);
  sl_sort(out);
}

/* ---- the reference ---- */

typedef struct step {
  int phase;
  int resume;
  int status; /* its exit status */
  long ms;
  char *dump; /* the store after it */
} step;

typedef struct reference {
  char *dump[NPHASES];
  strlist changes[NPHASES]; /* cumulative, sorted */
  step steps[MAXSTEPS];
  int nsteps;
  long writes[MAXSTEPS]; /* writes of each step, for ENOSPC */
} reference;

/* ---- invariants ---- */

static int check_store(iter *it, const reference *ref, int p) {
  char *d = store_dump(it->home);
  int rc = 0;
  if (strcmp(d, ref->dump[p]) != 0) {
    char why[1024];
    dump_diff(d, ref->dump[p], why, sizeof(why));
    rc = failf(it, "store: differs from the clean run after phase %d: %s",
               p + 1, why);
  }
  free(d);
  return rc;
}

static int check_reports(iter *it, const reference *ref, int p) {
  strlist got = {0};
  const strlist *want = &ref->changes[p];
  size_t i = 0, j = 0;
  int rc = 0;
  applied_changes(it->home, &got);
  while (rc == 0 && (i < got.n || j < want->n)) {
    int c = i == got.n ? 1 : j == want->n ? -1 : strcmp(got.v[i], want->v[j]);
    if (c < 0)
      rc = failf(it,
                 "reports: change '%s' reported once too often "
                 "(%zu lines reported, %zu applied)",
                 got.v[i], got.n, want->n);
    else if (c > 0)
      rc = failf(it,
                 "reports: applied change '%s' is in no change report "
                 "(%zu lines reported, %zu applied)",
                 want->v[j], got.n, want->n);
    i++;
    j++;
  }
  sl_free(&got);
  return rc;
}

/* Held rows only for an attempt of the last job instance, and that one
 * resumable (Blocked, Interrupted or Cancelled); none at all when done. */
static int check_held(iter *it, int done) {
  sqlite3 *db = open_db(it->home, "identity.db");
  sqlite3_stmt *q;
  size_t n;
  attempt *a;
  int rc = 0;
  if (db == NULL)
    return 0;
  a = sync_attempts(it->home, &n);
  if (sqlite3_prepare_v2(db,
                         "SELECT task_instance, count(*) FROM ("
                         "SELECT task_instance FROM resource_changes "
                         "WHERE state = 'held' UNION ALL "
                         "SELECT task_instance FROM link_changes "
                         "WHERE state = 'held') GROUP BY 1",
                         -1, &q, NULL) == SQLITE_OK) {
    while (rc == 0 && sqlite3_step(q) == SQLITE_ROW) {
      long ti = sqlite3_column_int64(q, 0);
      const attempt *t = NULL;
      for (size_t i = 0; i < n; i++)
        if (a[i].id == ti)
          t = &a[i];
      long inst = 0;
      int running;
      const char *js = NULL;
      if (!done && t != NULL)
        js = last_instance(it, &inst, &running);
      if (done || js == NULL || inst != t->job_instance ||
          (strcmp(js, "Blocked") != 0 && strcmp(js, "Interrupted") != 0 &&
           strcmp(js, "Cancelled") != 0))
        rc = failf(it, "held: %lld held rows of task instance %ld (%s)%s",
                   (long long)sqlite3_column_int64(q, 1), ti,
                   t ? t->state : "unknown",
                   done ? " remain after the phase succeeded"
                        : " that no resume of the last instance applies");
    }
    sqlite3_finalize(q);
  }
  free(a);
  sqlite3_close(db);
  return rc;
}

static int leftover_name(const char *name) {
  size_t l = strlen(name);
  return strstr(name, ".tmp") != NULL || strstr(name, "jh-extsort-") ||
         (l > 6 && strcmp(name + l - 6, ".spill") == 0) ||
         (l > 8 && strcmp(name + l - 8, "-journal") == 0) ||
         (l > 4 && strcmp(name + l - 4, ".new") == 0);
}

static int walk_leftovers(iter *it, const char *dir, const char *rel) {
  DIR *d = opendir(dir);
  struct dirent *e;
  int rc = 0;
  if (d == NULL)
    return 0;
  while (rc == 0 && (e = readdir(d)) != NULL) {
    char p[PATH_MAX], r[PATH_MAX];
    struct stat st;
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
    snprintf(r, sizeof(r), "%s%s%s", rel, rel[0] ? "/" : "", e->d_name);
    if (leftover_name(e->d_name) || strcmp(rel, "Work/Tasks") == 0 ||
        strcmp(rel, "Work/Collect/HR/batches") == 0)
      rc = failf(it, "leftovers: %s", r);
    else if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
      rc = walk_leftovers(it, p, r);
  }
  closedir(d);
  return rc;
}

static int check_history(iter *it, const reference *ref, int p) {
  long inst, total = 0;
  int running;
  const char *state = last_instance(it, &inst, &running);
  size_t n;
  attempt *a;
  int rc = 0;

  if (state == NULL)
    return failf(it, "history: no job instance after phase %d", p + 1);
  if (strcmp(state, "Succeeded") != 0)
    return failf(it, "history: instance %ld is %s after phase %d succeeded",
                 inst, state, p + 1);
  if (running > 0)
    return failf(it, "history: %d instance(s) left Running", running);
  a = sync_attempts(it->home, &n);
  for (size_t i = 0; rc == 0 && i < n; i++) {
    strlist lines = {0};
    long per[5] = {0};
    if (strcmp(a[i].state, "Succeeded") != 0)
      continue;
    if (read_report(a[i].report, &lines) != 0) {
      rc = failf(it,
                 "history: task instance %ld Succeeded without its "
                 "change report %s",
                 a[i].id, a[i].report);
      break;
    }
    for (size_t l = 0; l < lines.n; l++)
      for (int k = 0; k < 5; k++)
        if (strncmp(lines.v[l], change_names[k], strlen(change_names[k])) == 0)
          per[k]++;
    for (int k = 0; rc == 0 && k < 5; k++) {
      if (per[k] != a[i].counts[k])
        rc = failf(it,
                   "history: task instance %ld counts %ld %s, its "
                   "change report %ld",
                   a[i].id, a[i].counts[k], count_names[k], per[k]);
      total += a[i].counts[k];
    }
    sl_free(&lines);
  }
  free(a);
  if (rc == 0 && total != (long)ref->changes[p].n)
    rc = failf(it,
               "history: the Succeeded synchronizations count %ld "
               "changes, the store received %zu",
               total, ref->changes[p].n);
  return rc;
}

static int check_phase(iter *it, const reference *ref, int p) {
  if (check_store(it, ref, p) != 0 || check_reports(it, ref, p) != 0 ||
      check_held(it, 1) != 0 || walk_leftovers(it, it->home, "") != 0 ||
      check_history(it, ref, p) != 0)
    return -1;
  return 0;
}

/* ---- running the phases ---- */

typedef struct plan {
  int step; /* the command that gets the fault (-1: none) */
  fault f;
  int enospc; /* f is an ENOSPC: check the error and the store */
} plan;

static void print_fault(const plan *pl, const reference *ref, char *buf,
                        size_t size) {
  const step *s = &ref->steps[pl->step];
  int n = snprintf(buf, size, "phase %d %s: ", s->phase + 1,
                   s->resume ? "resume" : "run");
  if (pl->f.point != NULL)
    snprintf(buf + n, size - n, "fault point %s:%d%s", pl->f.point, pl->f.nth,
             pl->f.isolation_none ? " (--isolation none)" : "");
  else if (pl->f.enospc_at >= 0)
    snprintf(buf + n, size - n, "ENOSPC at write %ld", pl->f.enospc_at);
  else
    snprintf(buf + n, size - n, "kill the %s after %ld ms",
             target_names[pl->f.target], pl->f.delay_ms);
}

/* The faulted command's output stays as fault.stdout, fault.stderr. */
static void keep_output(const char *dir) {
  static const char *const names[] = {"stdout", "stderr"};
  for (int i = 0; i < 2; i++) {
    char from[PATH_MAX], to[PATH_MAX];
    snprintf(from, sizeof(from), "%s/%s", dir, names[i]);
    snprintf(to, sizeof(to), "%s/fault.%s", dir, names[i]);
    rename(from, to);
  }
}

/* After an ENOSPC: the command ended as in the clean run with the store
 * as after it (the failure was absorbed: SQLite's checkpoint into the
 * main file fails harmlessly, the data stays in the WAL), or it ended in
 * Error saying the disk is full; the store is as before or as after. A
 * resume whose validation failed ends Blocked again (exit 3, the changes
 * still held: the store as before), also saying the disk is full. */
static int check_enospc(iter *it, const outcome *o, const step *clean,
                        const char *before, const char *after) {
  char path[PATH_MAX + 16], buf[8192];
  FILE *f;
  size_t len = 0;
  char *d;
  int rc = 0;
  if (o->status >= 128)
    return failf(it, "enospc: jobhost died of signal %d", o->status - 128);
  if (o->status == clean->status) {
    d = store_dump(it->home);
    if (strcmp(d, after) != 0)
      rc = failf(it,
                 "enospc: exit %d as in the clean run, but the store is "
                 "not as after it",
                 o->status);
    free(d);
    return rc;
  }
  if (o->status != 1 && !(o->status == 3 && clean->resume))
    return failf(it,
                 "enospc: exit status %d after a failed write, not 1 "
                 "(Error)",
                 o->status);
  snprintf(path, sizeof(path), "%s/fault.stderr", it->dir);
  if ((f = fopen(path, "r")) != NULL) {
    len = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
  }
  buf[len] = '\0';
  if (strstr(buf, "No space left") == NULL &&
      strstr(buf, "disk is full") == NULL && strstr(buf, "disk full") == NULL)
    return failf(it, "enospc: exit %d without saying the disk is full",
                 o->status);
  d = store_dump(it->home);
  if (o->status == 3 && strcmp(d, before) != 0)
    rc = failf(it, "enospc: a resume ended Blocked again, but the store is "
                   "not as before it");
  else if (strcmp(d, before) != 0 && strcmp(d, after) != 0)
    rc = failf(it, "enospc: the store is neither as before the command nor "
                   "as after it");
  free(d);
  return rc;
}

/* Run the phases, the plan's command with its fault, recovering after it;
 * check after each phase. 0, or -1 with it->failure set. */
static int run_phases(iter *it, const reference *ref, const plan *pl,
                      char *what, size_t wsize, long *counted) {
  int k = 0; /* the index of the next command of the clean sequence */
  int faulted = 0;
  what[0] = '\0';
  for (int p = 0; p < NPHASES; p++) {
    int resume = 0, tries = 0;
    long inst = 0;
    write_sources(it->dir, p);
    for (;;) {
      char instbuf[32];
      const char *run_args[] = {"run",    it->pipeline,   "--home",
                                it->home, "--plugin-dir", plugin_dir,
                                NULL};
      const char *resume_args[] = {"resume", instbuf,        "--home",
                                   it->home, "--plugin-dir", plugin_dir,
                                   NULL};
      const fault *f = NULL;
      char *before = NULL;
      outcome o;
      int running;
      const char *state;

      snprintf(instbuf, sizeof(instbuf), "%ld", inst);
      if (!faulted && k == pl->step) {
        f = &pl->f;
        faulted = 1;
        if (pl->enospc)
          before = store_dump(it->home);
      }
      run_jobhost(it->dir, resume ? resume_args : run_args, f, &o);
      k++;
      if (f != NULL) {
        snprintf(what, wsize, "%s%sexit %d", o.what, o.what[0] ? ", " : "",
                 o.status);
        if (pl->f.enospc_at == 0)
          *counted = o.writes;
        keep_output(it->dir);
        if (pl->enospc) {
          int bad = check_enospc(it, &o, &ref->steps[k - 1], before,
                                 ref->steps[k - 1].dump);
          free(before);
          if (bad)
            return -1;
        }
      }
      if (o.hung)
        return failf(it, "progress: jobhost %s still running after %d s",
                     resume ? "resume" : "run", HANG_S);
      if (check_held(it, 0) != 0)
        return -1;
      if (o.status == 0)
        break;
      if (o.status == 2 || ++tries > MAXTRIES)
        return failf(it,
                     "progress: phase %d still not done after %d "
                     "commands (last exit %d)",
                     p + 1, tries, o.status);
      state = last_instance(it, &inst, &running);
      if (it->failure[0] != '\0')
        return -1;
      resume = state != NULL && (strcmp(state, "Blocked") == 0 ||
                                 strcmp(state, "Interrupted") == 0);
    }
    if (check_phase(it, ref, p) != 0)
      return failf(it, "after phase %d", p + 1);
  }
  return 0;
}

/* The clean run: dumps, applied changes, the commands and their times. */
static void make_reference(const char *root, reference *ref) {
  iter it;
  int k = 0;
  memset(ref, 0, sizeof(*ref));
  iter_init(&it, root, "reference");
  for (int p = 0; p < NPHASES; p++) {
    int resume = 0;
    long inst = 0;
    write_sources(it.dir, p);
    for (;;) {
      char instbuf[32];
      const char *run_args[] = {"run",          it.pipeline, "--home", it.home,
                                "--plugin-dir", plugin_dir,  NULL};
      const char *resume_args[] = {"resume", instbuf,        "--home",
                                   it.home,  "--plugin-dir", plugin_dir,
                                   NULL};
      outcome o;
      int running;
      snprintf(instbuf, sizeof(instbuf), "%ld", inst);
      run_jobhost(it.dir, resume ? resume_args : run_args, NULL, &o);
      if (k == MAXSTEPS)
        die("reference: more than %d commands", MAXSTEPS);
      ref->steps[k].phase = p;
      ref->steps[k].resume = resume;
      ref->steps[k].status = o.status;
      ref->steps[k].dump = store_dump(it.home);
      ref->steps[k++].ms = o.ms;
      if (o.status == 0)
        break;
      if (o.status != 3 || resume)
        die("reference: phase %d %s exited %d (see %s/stderr)", p + 1,
            resume ? "resume" : "run", o.status, it.dir);
      last_instance(&it, &inst, &running);
      resume = 1;
    }
    ref->dump[p] = store_dump(it.home);
    applied_changes(it.home, &ref->changes[p]);
  }
  ref->nsteps = k;
  rmtree(it.dir);
}

/* ---- choosing the fault ---- */

typedef struct point {
  const char *name;
  int in_worker; /* reached in a worker (else in the host) */
  int in_run;    /* reached by a run */
  int in_resume; /* reached by a resume */
} point;

static const point points[] = {
    {"sync.diffed", 1, 1, 0},
    {"sync.resume_applied", 1, 0, 1},
    {"sync.before_commit", 1, 1, 1},
    {"sync.before_notice", 1, 1, 1},
    {"sync.after_commit", 1, 1, 1},
    {"sync.after_report", 1, 1, 1},
    {"prepare.before_publish", 1, 1, 0},
    {"prepare.after_publish", 1, 1, 0},
    {"exec.result_received", 0, 1, 1},
};
#define NPOINTS (sizeof(points) / sizeof(points[0]))

/*
 * FAULTS_SKIP: a comma-separated list of faults not to inject, each
 * WHAT or WHAT@run or WHAT@resume (only in that kind of command), WHAT
 * being a fault point's name, kill:host, kill:forkserver, kill:worker or
 * enospc; and enospc:TEXT, no failed write to a file whose path contains
 * TEXT (those writes are not counted). Whether `what` in a run
 * (resume = 0) or a resume is listed.
 */
static int skipped(const char *what, int resume) {
  const char *skip = getenv("FAULTS_SKIP");
  size_t l = strlen(what);
  for (const char *s = skip; s != NULL && *s;) {
    size_t n = strcspn(s, ",");
    if (n >= l && strncmp(s, what, l) == 0 &&
        (n == l || (n - l == 4 && strncmp(s + l, "@run", 4) == 0 && !resume) ||
         (n - l == 7 && strncmp(s + l, "@resume", 7) == 0 && resume)))
      return 1;
    s += n + (s[n] == ',');
  }
  return 0;
}

/* The enospc:TEXT entries of FAULTS_SKIP, as the shim's list. */
static void enospc_ignores(void) {
  const char *skip = getenv("FAULTS_SKIP");
  size_t o = 0;
  for (const char *s = skip; s != NULL && *s;) {
    size_t n = strcspn(s, ",");
    if (n > 7 && strncmp(s, "enospc:", 7) == 0 && o + n < sizeof(enospc_ignore))
      o += (size_t)snprintf(enospc_ignore + o, sizeof(enospc_ignore) - o,
                            "%s%.*s", o ? "," : "", (int)(n - 7), s + 7);
    s += n + (s[n] == ',');
  }
}

static const char *const kill_names[] = {NULL, "kill:host", "kill:forkserver",
                                         "kill:worker"};

/* One draw: a command, then a timed kill or a fault point that command
 * reaches. 0, or -1 when the draw is skipped (FAULTS_SKIP). */
static int draw_fault(const reference *ref, plan *pl) {
  const step *s;
  const point *pt;
  memset(pl, 0, sizeof(*pl));
  pl->f.enospc_at = -1;
  pl->step = (int)rng_below(ref->nsteps);
  s = &ref->steps[pl->step];
  if (rng_below(2) == 0) {
    pl->f.target = (kill_target)(1 + rng_below(3));
    pl->f.delay_ms = rng_below(s->ms + 1);
    return skipped(kill_names[pl->f.target], s->resume) ? -1 : 0;
  }
  do
    pt = &points[rng_below(NPOINTS)];
  while (s->resume ? !pt->in_resume : !pt->in_run);
  pl->f.point = pt->name;
  /* a run has four tasks, a resume one */
  pl->f.nth = pt->in_worker ? 1 : 1 + (int)rng_below(s->resume ? 1 : 4);
  pl->f.isolation_none = pt->in_worker && rng_below(2) == 0;
  return skipped(pt->name, s->resume) ? -1 : 0;
}

static void choose_kill(const reference *ref, plan *pl) {
  for (int tries = 0; tries < 10000; tries++)
    if (draw_fault(ref, pl) == 0)
      return;
  die("FAULTS_SKIP leaves no fault to draw");
}

/* ---- ENOSPC: counting the writes of a command ---- */

/* Replay the clean sequence up to step k, count the writes of step k
 * (JH_ENOSPC_AT=0 counts without failing). */
static long count_writes(const char *root, const reference *ref, int k) {
  iter it;
  plan pl;
  char what[700];
  long n = -1;
  memset(&pl, 0, sizeof(pl));
  pl.step = k;
  pl.f.enospc_at = 0;
  iter_init(&it, root, "count");
  if (run_phases(&it, ref, &pl, what, sizeof(what), &n) != 0)
    die("counting the writes of command %d: %s", k + 1, it.failure);
  rmtree(it.dir);
  if (n <= 0)
    die("the ENOSPC shim counted no write (is %s loaded?)", shim_path);
  return n;
}

/* ------------------------------------------------------------------ main */

static int one(const char *root, const reference *ref, uint64_t seed, int index,
               int total, const plan *pl) {
  iter it;
  char name[64], desc[256], what[700];
  int64_t t0 = now_ms();
  int rc;
  snprintf(name, sizeof(name), "iter-%" PRIu64 "-%d", seed, index);
  iter_init(&it, root, name);
  print_fault(pl, ref, desc, sizeof(desc));
  rc = run_phases(&it, ref, pl, what, sizeof(what), NULL);
  if (pl->enospc)
    printf("faults: %d/%d W=%" PRIu64 " %s: %s -> %s (%lld ms)\n", index, total,
           seed, desc, what, rc == 0 ? "ok" : "FAILED",
           (long long)(now_ms() - t0));
  else
    printf("faults: %d/%d SEED=%" PRIu64 " %s: %s -> %s (%lld ms)\n", index,
           total, seed, desc, what, rc == 0 ? "ok" : "FAILED",
           (long long)(now_ms() - t0));
  if (rc != 0)
    printf("faults:   invariant failed: %s\nfaults:   kept %s\n", it.failure,
           it.dir);
  else if (!keep_all)
    rmtree(it.dir);
  fflush(stdout);
  return rc;
}

int main(int argc, char **argv) {
  long iterations = 10, enospc = 0, only_write = 0;
  int opt, failures = 0, done = 0;
  char root[] = "/tmp/jobhost-faults-XXXXXX";
  const char *seed_env = getenv("SEED");
  uint64_t seed;
  reference ref;
  int64_t t0 = now_ms();

  while ((opt = getopt(argc, argv, "n:e:EW:kv")) != -1) {
    switch (opt) {
    case 'n':
      iterations = strtol(optarg, NULL, 10);
      break;
    case 'e':
      enospc = strtol(optarg, NULL, 10);
      break;
    case 'E':
      enospc = -1;
      break;
    case 'W':
      only_write = strtol(optarg, NULL, 10);
      break;
    case 'k':
      keep_all = 1;
      break;
    case 'v':
      verbose = 1;
      break;
    default:
      fprintf(stderr, "usage: faults [-n N] [-e N|-E|-W N] [-k] [-v]\n");
      return 2;
    }
  }
  jobhost_bin = getenv("JH_JOBHOST");
  plugin_dir = getenv("JH_BUILTIN_PLUGIN_DIR");
  shim_path = getenv("JH_ENOSPC_SHIM");
  if (jobhost_bin == NULL || plugin_dir == NULL)
    die("set JH_JOBHOST and JH_BUILTIN_PLUGIN_DIR (make check does)");
  if ((enospc != 0 || only_write > 0) &&
      (shim_path == NULL || access(shim_path, R_OK) != 0))
    die("-e/-E need JH_ENOSPC_SHIM, the built enospc.so");
  enospc_ignores();
  if (mkdtemp(root) == NULL)
    die("mkdtemp: %s", strerror(errno));
  seed = seed_env != NULL ? strtoull(seed_env, NULL, 10)
                          : (uint64_t)time(NULL) % 1000000;
  make_reference(root, &ref);
  printf("faults: reference: %d commands (", ref.nsteps);
  for (int k = 0; k < ref.nsteps; k++)
    printf("%sphase %d %s %ld ms", k ? ", " : "", ref.steps[k].phase + 1,
           ref.steps[k].resume ? "resume" : "run", ref.steps[k].ms);
  printf(")\n");

  for (long i = 0; i < iterations; i++) {
    plan pl;
    rng_state = seed + (uint64_t)i;
    choose_kill(&ref, &pl);
    failures += one(root, &ref, seed + (uint64_t)i, (int)i + 1, (int)iterations,
                    &pl) != 0;
    done++;
  }

  if (enospc != 0 || only_write > 0) {
    /* every write of every command (-E), or `enospc` writes drawn from
     * the seed over all of them, or the one write of -W; W=n names the
     * write counted over all commands, for -W */
    long total = 0, count;
    for (int k = 0; k < ref.nsteps; k++)
      total += ref.writes[k] = count_writes(root, &ref, k);
    printf("faults: ENOSPC: %ld writes over the %d commands\n", total,
           ref.nsteps);
    count = only_write > 0 ? 1 : enospc < 0 ? total : enospc;
    rng_state = seed;
    for (long j = 0, tries = 0; j < count; j++) {
      long g = only_write > 0 ? only_write - 1
               : enospc < 0   ? j
                              : rng_below(total);
      long w = g, k = 0;
      plan pl;
      if (g >= total)
        die("-W %ld: the commands make %ld writes", only_write, total);
      while (w >= ref.writes[k])
        w -= ref.writes[k++];
      if (only_write <= 0 && skipped("enospc", ref.steps[k].resume)) {
        if (enospc > 0 && ++tries < 10000)
          j--; /* draw again */
        continue;
      }
      memset(&pl, 0, sizeof(pl));
      pl.step = (int)k;
      pl.enospc = 1;
      pl.f.enospc_at = w + 1;
      failures += one(root, &ref, (uint64_t)g + 1, (int)j + 1, (int)count,
                      &pl) != 0;
      done++;
    }
  }

  printf("faults: %d iterations, %d failed, %.1f s\n", done, failures,
         (double)(now_ms() - t0) / 1000.0);
  for (int k = 0; k < ref.nsteps; k++)
    free(ref.steps[k].dump);
  for (int p = 0; p < NPHASES; p++) {
    free(ref.dump[p]);
    sl_free(&ref.changes[p]);
  }
  if (failures == 0)
    rmtree(root);
  return failures ? 1 : 0;
}
