/*
 * test_compute_decision.c — the role model's decision (plugins/compute/
 * decision.h) as a table: the facts of one assignment and what must be
 * done with it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include "decision.h"
#include "provstore.h"

enum {
  P = JH_PROV_PENDING,
  T = JH_PROV_TRANSMITTED,
  V = JH_PROV_VERIFIED,
  A = JH_PROV_AWAITING_APPROVAL,
  X = JH_PROV_EXECUTED,
  N = JH_PROV_NONE
};
enum {
  ADD = JH_CHANGE_ADDED,
  MOD = JH_CHANGE_MODIFIED,
  DEL = JH_CHANGE_DELETED,
  NOCH = JH_CHANGE_NONE
};
#define LEAVE JH_RM_LEAVE
#define PUT JH_RM_PUT
#define REMOVE JH_RM_REMOVE

/* What an owner looks like unless a row says otherwise: allowed to add
 * and remove, nothing blocks, no stored assignment. */
#define OWNER .has_owner = 1, .expected = 1, .allow_add = 1, .allow_remove = 1
/* An owner the type rules no longer give the resource type. */
#define GONE .has_owner = 1, .allow_add = 1, .allow_remove = 1
#define STORED(st, ch)                                                         \
  .has_assignment = 1, .stored_state = st, .stored_change = ch
#define TARGET(conf, diff)                                                     \
  .has_target = 1, .confidence = conf, .differing = diff

typedef struct row {
  const char *what;
  jh_rm_facts f;
  jh_rm_decision want;
} row;

static const row table[] = {
    {"new owner, no target: Added", {OWNER}, {PUT, ADD, P, P}},
    {"new owner, type blocks: Added awaiting approval",
     {OWNER, .blocked_type = 1},
     {PUT, ADD, A, A}},
    {"new owner, task blocks", {OWNER, .blocked_task = 1}, {PUT, ADD, A, A}},
    {"new owner, allow_add off: nothing",
     {.has_owner = 1, .expected = 1, .allow_remove = 1},
     {LEAVE, NOCH, N, N}},
    {"correlated at 100, values equal: Verified",
     {OWNER, TARGET(100, 0)},
     {PUT, NOCH, V, V}},
    {"correlated at 100, two values differ: Modified",
     {OWNER, TARGET(100, 2)},
     {PUT, MOD, P, P}},
    {"correlated at 80: Modified awaiting approval",
     {OWNER, TARGET(80, 1)},
     {PUT, MOD, A, A}},
    {"correlated at 80, values equal: Verified all the same",
     {OWNER, TARGET(80, 0)},
     {PUT, NOCH, V, V}},
    {"earlier order on the target awaiting approval",
     {OWNER, TARGET(100, 1), .earlier_blocked = 1},
     {PUT, MOD, A, A}},
    {"verified and unchanged: left",
     {OWNER, TARGET(100, 0), STORED(V, NOCH), .same_policy = 1},
     {LEAVE, NOCH, N, N}},
    {"verified, policy changed, values equal: Verified written",
     {OWNER, TARGET(100, 0), STORED(V, NOCH)},
     {PUT, NOCH, V, V}},
    {"verified, someone changed the target: Modified",
     {OWNER, TARGET(100, 1), STORED(V, NOCH), .same_policy = 1},
     {PUT, MOD, P, P}},
    {"Modified transmitted, same policy: left",
     {OWNER, TARGET(100, 1), STORED(T, MOD), .same_policy = 1},
     {LEAVE, NOCH, N, N}},
    {"Modified transmitted, policy changed again: Pending",
     {OWNER, TARGET(100, 1), STORED(T, MOD)},
     {PUT, MOD, P, P}},
    {"Modified awaiting approval, same policy: still waits",
     {OWNER, TARGET(100, 1), STORED(A, MOD), .same_policy = 1},
     {LEAVE, NOCH, N, N}},
    {"Added pending, same policy: left",
     {OWNER, STORED(P, ADD), .same_policy = 1},
     {LEAVE, NOCH, N, N}},
    {"Added transmitted, policy changed, no target yet: left",
     {OWNER, STORED(T, ADD)},
     {LEAVE, NOCH, N, N}},
    {"Added executed, target now seen with equal values: Verified",
     {OWNER, TARGET(100, 0), STORED(X, ADD), .same_policy = 1},
     {PUT, NOCH, V, V}},
    {"declined with this policy: left alone",
     {OWNER, TARGET(100, 2), STORED(N, MOD), .declined = 1},
     {LEAVE, NOCH, N, N}},
    {"declined, no stored assignment: decided as new",
     {OWNER, .declined = 1},
     {PUT, ADD, P, P}},
    {"owner gone, target exists: Deleted",
     {GONE, TARGET(100, 0), STORED(V, NOCH)},
     {PUT, DEL, P, P}},
    {"owner gone, allow_remove off: left",
     {.has_owner = 1, .allow_add = 1, TARGET(100, 0), STORED(V, NOCH)},
     {LEAVE, NOCH, N, N}},
    {"owner gone, type blocks: Deleted awaiting approval",
     {GONE, .blocked_type = 1, TARGET(100, 0), STORED(V, NOCH)},
     {PUT, DEL, A, A}},
    {"owner gone, no target ever: assignment removed",
     {GONE, STORED(P, ADD)},
     {REMOVE, NOCH, N, N}},
    {"owner gone, no assignment: nothing", {GONE}, {LEAVE, NOCH, N, N}},
    {"owner gone, Deleted transmitted: left",
     {GONE, TARGET(100, 0), STORED(T, DEL), .same_policy = 1},
     {LEAVE, NOCH, N, N}},
    {"orphan: recorded with no order",
     {.has_target = 1, .allow_remove = 1},
     {PUT, NOCH, N, N}},
    {"orphan recorded already: left",
     {.has_target = 1, .allow_remove = 1, STORED(N, NOCH)},
     {LEAVE, NOCH, N, N}},
    {"orphan with remove_orphans: Deleted",
     {.has_target = 1, .allow_remove = 1, .remove_orphans = 1},
     {PUT, DEL, P, P}},
    {"orphan with remove_orphans, confidence does not block",
     {.has_target = 1, .confidence = 0, .allow_remove = 1, .remove_orphans = 1},
     {PUT, DEL, P, P}},
    {"orphan with remove_orphans, type blocks",
     {.has_target = 1,
      .allow_remove = 1,
      .remove_orphans = 1,
      .blocked_type = 1},
     {PUT, DEL, A, A}},
    {"orphan whose target went away: removed",
     {STORED(N, NOCH)},
     {REMOVE, NOCH, N, N}},
};

static void test_table(void **state) {
  (void)state;
  for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
    const row *r = &table[i];
    jh_rm_decision d = jh_rm_decide(&r->f);
    int ok = d.action == r->want.action;
    if (ok && d.action == JH_RM_PUT)
      ok = d.change_type == r->want.change_type && d.state == r->want.state &&
           d.value_state == r->want.value_state;
    if (!ok)
      fail_msg("row %zu (%s): got action %d change %d state %d/%d", i, r->what,
               (int)d.action, d.change_type, d.state, d.value_state);
  }
}

static void test_blocked(void **state) {
  jh_rm_facts f = {OWNER, TARGET(99, 1)};
  (void)state;
  assert_true(jh_rm_blocked(&f));
  f.confidence = 100;
  assert_false(jh_rm_blocked(&f));
  f.confidence = 150;
  assert_false(jh_rm_blocked(&f));
  f.earlier_blocked = 1;
  assert_true(jh_rm_blocked(&f));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_table),
      cmocka_unit_test(test_blocked),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
