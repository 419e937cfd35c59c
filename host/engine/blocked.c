/*
 * blocked.c — see blocked.h.
 */
#include "config.h"

#include "blocked.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "collect_batch.h"
#include "idstore.h"
#include "model.h"

/* The steps of a connector's synchronization (jobhost/plugin.h). */
#define SYNC_STEPS                                                             \
  (JOBHOST_TASK_EXPORTS | JOBHOST_TASK_PREPARES | JOBHOST_TASK_SYNCHRONIZES)

static const char *param(const jh_task_def *t, const char *key) {
  const jh_value *v = jh_task_value(t, key);
  return v != NULL ? v->text : NULL;
}

/* The connector of a synchronization task, or NULL. */
static const char *task_connector(const jh_pipeline *p, const jh_task_def *t) {
  const char *c = param(t, JOBHOST_PARAM_NAME_CONNECTOR);
  if (c == NULL && (jh_task_flags(t) & JOBHOST_TASK_EXPORTS) &&
      p->model != NULL) {
    const char *conn = param(t, JOBHOST_PARAM_NAME_CONNECTION);
    const jh_connection *cn = conn != NULL ? jh_model_connection(p->model, conn)
                                           : NULL;
    c = cn != NULL ? cn->connector : NULL;
  }
  return c;
}

static int incremental_prepare(const jh_task_def *t) {
  jh_batch_mode mode;
  return (jh_task_flags(t) & JOBHOST_TASK_PREPARES) &&
         jh_batch_mode_parse(param(t, JOBHOST_PARAM_NAME_SYNC_MODE), &mode) ==
             0 &&
         mode == JH_BATCH_INCREMENTAL;
}

const char *jh_task_incremental_connector(const jh_pipeline *p,
                                          const jh_task_def *t) {
  const char *c;
  if (!(jh_task_flags(t) & SYNC_STEPS))
    return NULL;
  if ((c = task_connector(p, t)) == NULL)
    return NULL;
  for (size_t i = 0; i < p->ntasks; i++) {
    const char *pc;
    if (!incremental_prepare(&p->tasks[i]))
      continue;
    pc = param(&p->tasks[i], JOBHOST_PARAM_NAME_CONNECTOR);
    if (pc != NULL && strcasecmp(pc, c) == 0)
      return c;
  }
  return NULL;
}

const char *jh_blocked_reason(const char *identity_store, const jh_pipeline *p,
                              const jh_task_def *t, int64_t instance, char *why,
                              size_t size) {
  const char *c = jh_task_incremental_connector(p, t);
  int64_t task = 0, job = 0;

  if (c == NULL || identity_store == NULL)
    return NULL;
  /* a store that cannot be read: the synchronize task itself reports it */
  if (jh_idstore_blocked(identity_store, c, &task, &job) != 0 || task == 0 ||
      (job > 0 && job == instance))
    return NULL;
  if (job > 0)
    snprintf(why, size,
             "connector %s is blocked by job instance %" PRId64
             " (changes over a threshold held by task instance %" PRId64
             "): its incremental tasks are left out until `jobhost resume "
             "%" PRId64 "` or a complete synchronization of %s",
             c, job, task, job, c);
  else
    snprintf(why, size,
             "connector %s is blocked by task instance %" PRId64
             " (changes over a threshold): its incremental tasks are left "
             "out until its job instance is resumed or a complete "
             "synchronization of %s runs",
             c, task, c);
  return why;
}
