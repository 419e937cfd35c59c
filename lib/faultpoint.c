/*
 * faultpoint.c — see faultpoint.h.
 */
#include "config.h"

#include "faultpoint.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { FP_UNREAD, FP_OFF, FP_ARMED };

static int fp_state = FP_UNREAD;
static char fp_name[128];
static unsigned long fp_at = 1;
static unsigned long fp_hits;

/* JOBHOST_FAULT=name[:N]; anything malformed leaves the points off. */
static void fp_read(void) {
  const char *v = getenv("JOBHOST_FAULT");
  const char *colon;
  size_t len;

  fp_state = FP_OFF;
  if (v == NULL || v[0] == '\0')
    return;
  colon = strchr(v, ':');
  len = colon != NULL ? (size_t)(colon - v) : strlen(v);
  if (len == 0 || len >= sizeof(fp_name))
    return;
  if (colon != NULL) {
    char *end;
    unsigned long n = strtoul(colon + 1, &end, 10);
    if (colon[1] == '\0' || *end != '\0' || n == 0)
      return;
    fp_at = n;
  }
  memcpy(fp_name, v, len);
  fp_name[len] = '\0';
  fp_state = FP_ARMED;
}

void jh_fault_point(const char *name) {
  if (__builtin_expect(fp_state == FP_OFF, 1))
    return;
  if (fp_state == FP_UNREAD)
    fp_read();
  if (fp_state != FP_ARMED || strcmp(name, fp_name) != 0)
    return;
  if (__atomic_add_fetch(&fp_hits, 1, __ATOMIC_SEQ_CST) == fp_at)
    kill(getpid(), SIGKILL);
}
