/*
 * faultpoint.c — see faultpoint.h.
 */
#include "config.h"

#include "faultpoint.h"

#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static char armed[128]; /* the name to fail at; empty: none */
static long at_hit = 1;
static long hits;
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

static void read_env(void) {
  const char *v = getenv("JOBHOST_FAULT");
  const char *colon;
  size_t len;
  if (v == NULL || *v == '\0')
    return;
  colon = strchr(v, ':');
  len = colon != NULL ? (size_t)(colon - v) : strlen(v);
  if (len == 0 || len >= sizeof(armed))
    return;
  if (colon != NULL) {
    char *end;
    long n = strtol(colon + 1, &end, 10);
    if (*end != '\0' || n < 1)
      return; /* malformed: no fault rather than a wrong one */
    at_hit = n;
  }
  memcpy(armed, v, len);
  armed[len] = '\0';
}

void jh_fault_point(const char *name) {
  int fire = 0;
  pthread_once(&once, read_env);
  if (armed[0] == '\0' || name == NULL || strcmp(name, armed) != 0)
    return;
  pthread_mutex_lock(&lock);
  fire = ++hits == at_hit;
  pthread_mutex_unlock(&lock);
  if (fire)
    kill(getpid(), SIGKILL);
}
