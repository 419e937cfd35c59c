/*
 * file_writer.c — see file_writer.h.
 */
#include "config.h"

#include "file_writer.h"

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "atomic_file.h"

typedef struct pending {
  char *path;
  char *buf;
  size_t len;
} pending;

struct jh_file_writer {
  pthread_t thread;
  pthread_mutex_t lock;
  pthread_cond_t changed; /* a file queued or done, or the stop asked */
  pending queue[JH_FILE_WRITER_QUEUE];
  size_t head, count; /* the ring of queued files */
  int busy;           /* the thread is writing one */
  int stopping;
  mode_t mode;
  int failure;                /* the first failure, a negative errno */
  char failed_path[PATH_MAX]; /* its file */
};

static void *run(void *arg) {
  jh_file_writer *w = arg;
  pthread_mutex_lock(&w->lock);
  for (;;) {
    pending p;
    int rc = 0;
    while (w->count == 0 && !w->stopping)
      pthread_cond_wait(&w->changed, &w->lock);
    if (w->count == 0)
      break;
    p = w->queue[w->head];
    w->head = (w->head + 1) % JH_FILE_WRITER_QUEUE;
    w->count--;
    w->busy = 1;
    pthread_cond_broadcast(&w->changed);
    if (w->failure == 0) {
      pthread_mutex_unlock(&w->lock);
      rc = jh_write_file_atomic(p.path, p.buf, p.len, w->mode);
      pthread_mutex_lock(&w->lock);
    }
    if (rc != 0 && w->failure == 0) {
      w->failure = rc;
      snprintf(w->failed_path, sizeof(w->failed_path), "%s", p.path);
    }
    free(p.path);
    free(p.buf);
    w->busy = 0;
    pthread_cond_broadcast(&w->changed);
  }
  pthread_mutex_unlock(&w->lock);
  return NULL;
}

int jh_file_writer_start(mode_t mode, jh_file_writer **out) {
  jh_file_writer *w = calloc(1, sizeof(*w));
  int rc;
  *out = NULL;
  if (w == NULL)
    return -ENOMEM;
  w->mode = mode;
  if ((rc = pthread_mutex_init(&w->lock, NULL)) != 0) {
    free(w);
    return -rc;
  }
  if ((rc = pthread_cond_init(&w->changed, NULL)) != 0) {
    pthread_mutex_destroy(&w->lock);
    free(w);
    return -rc;
  }
  if ((rc = pthread_create(&w->thread, NULL, run, w)) != 0) {
    pthread_cond_destroy(&w->changed);
    pthread_mutex_destroy(&w->lock);
    free(w);
    return -rc;
  }
  *out = w;
  return 0;
}

int jh_file_writer_put(jh_file_writer *w, const char *path, char *buf,
                       size_t len) {
  char *copy = strdup(path);
  int rc;
  pthread_mutex_lock(&w->lock);
  while (w->count == JH_FILE_WRITER_QUEUE && w->failure == 0)
    pthread_cond_wait(&w->changed, &w->lock);
  if (copy == NULL && w->failure == 0) {
    w->failure = -ENOMEM;
    snprintf(w->failed_path, sizeof(w->failed_path), "%s", path);
  }
  rc = w->failure;
  if (rc == 0) {
    size_t at = (w->head + w->count) % JH_FILE_WRITER_QUEUE;
    w->queue[at] = (pending){copy, buf, len};
    w->count++;
    pthread_cond_broadcast(&w->changed);
  }
  pthread_mutex_unlock(&w->lock);
  if (rc != 0) {
    free(copy);
    free(buf);
  }
  return rc;
}

int jh_file_writer_drain(jh_file_writer *w, char *err, size_t errsize) {
  int rc;
  pthread_mutex_lock(&w->lock);
  while (w->count > 0 || w->busy)
    pthread_cond_wait(&w->changed, &w->lock);
  rc = w->failure;
  if (rc != 0)
    snprintf(err, errsize, "%s: cannot write: %s", w->failed_path,
             strerror(-rc));
  pthread_mutex_unlock(&w->lock);
  return rc;
}

void jh_file_writer_stop(jh_file_writer *w) {
  if (w == NULL)
    return;
  pthread_mutex_lock(&w->lock);
  w->stopping = 1;
  pthread_cond_broadcast(&w->changed);
  pthread_mutex_unlock(&w->lock);
  pthread_join(w->thread, NULL);
  pthread_cond_destroy(&w->changed);
  pthread_mutex_destroy(&w->lock);
  free(w);
}
