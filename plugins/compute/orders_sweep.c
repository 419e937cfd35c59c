/*
 * orders_sweep.c — the order files a GenerateProvisioningOrdersTask
 * killed before its commit left behind (doc/compute.md, "Order files").
 *
 * Such a task wrote its files, then died before the transaction that
 * records them and makes their assignments Transmitted: the assignments
 * are still Pending and the next run sends them again. Its files must
 * not stay beside the new ones, or a fulfillment would apply those
 * orders twice. While a task holds the identity store's write
 * transaction no other one can be between its files and its commit, so
 * every file no order row names is such a leftover.
 */
#include "config.h"

#include "compute.h"

#include "atomic_file.h"
#include "provstore.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

typedef struct sweep_arg {
  jh_compute *c;
  const char *rt;
  int64_t removed;
  int rc;
} sweep_arg;

static int is_order_file(const char *name) {
  size_t n = strlen(name);
  return name[0] != '.' && n > 5 && strcmp(name + n - 5, ".json") == 0;
}

static int sweep_file(const char *path, const char *name, void *ud) {
  sweep_arg *a = ud;
  char rel[PATH_MAX];
  int rc;
  if (!is_order_file(name) ||
      snprintf(rel, sizeof(rel), "%s/%s", a->rt, name) >= (int)sizeof(rel))
    return 0;
  rc = jh_prov_order_file_recorded(a->c->store, rel, a->c->err,
                                   sizeof(a->c->err));
  if (rc == 0 && unlink(path) != 0 && errno != ENOENT) {
    rc = -errno;
    snprintf(a->c->err, sizeof(a->c->err),
             "%s: cannot remove the orders a killed run left: %s", path,
             strerror(errno));
  }
  if (rc == 0)
    a->removed++;
  if (rc < 0) {
    a->rc = rc;
    return 1;
  }
  return 0;
}

int jh_compute_orders_sweep(jh_compute *c, const char *root, const char *rt,
                            int64_t *removed) {
  char dir[PATH_MAX];
  sweep_arg a = {c, rt, 0, 0};
  if (snprintf(dir, sizeof(dir), "%s/%s", root, rt) >= (int)sizeof(dir) ||
      access(dir, F_OK) != 0)
    return 0; /* no folder: nothing was ever written there */
  jh_dir_each(dir, sweep_file, &a);
  /* a removal lost to a power cut is found again by the next run */
  if (a.removed > 0)
    (void)jh_fsync_dir(dir);
  *removed += a.removed;
  return a.rc;
}
