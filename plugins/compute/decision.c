/*
 * decision.c — the role model's decision for one assignment
 * (decision.h). Pure: no store, no model, no allocation.
 */
#include "config.h"

#include "decision.h"
#include "provstore.h"

static const jh_rm_decision leave = {JH_RM_LEAVE, JH_CHANGE_NONE, JH_PROV_NONE,
                                     JH_PROV_NONE};
static const jh_rm_decision drop = {JH_RM_REMOVE, JH_CHANGE_NONE, JH_PROV_NONE,
                                    JH_PROV_NONE};

/* An order that went out, or waits to go out or for a review. */
static int in_flight(int state) {
  return state == JH_PROV_PENDING || state == JH_PROV_TRANSMITTED ||
         state == JH_PROV_EXECUTED || state == JH_PROV_ERRORED ||
         state == JH_PROV_AWAITING_APPROVAL;
}

int jh_rm_blocked(const jh_rm_facts *f) {
  if (f->blocked_type || f->blocked_task || f->earlier_blocked)
    return 1;
  return f->has_owner && f->has_target && f->confidence < 100;
}

static jh_rm_decision put(int change, int state, int value_state) {
  jh_rm_decision d = {JH_RM_PUT, change, state, value_state};
  return d;
}

/* An order of change: the same one stored and not verified yet is left
 * as it is (it is on its way, or waits for its review). */
static jh_rm_decision order(const jh_rm_facts *f, int change) {
  int s = jh_rm_blocked(f) ? JH_PROV_AWAITING_APPROVAL : JH_PROV_PENDING;
  if (f->has_assignment && f->same_policy && f->stored_change == change &&
      in_flight(f->stored_state))
    return leave;
  return put(change, s, s);
}

/* The owner should have the resource type. */
static jh_rm_decision wanted(const jh_rm_facts *f) {
  if (f->has_target) {
    if (f->differing > 0)
      return order(f, JH_CHANGE_MODIFIED);
    if (f->has_assignment && f->same_policy &&
        f->stored_change == JH_CHANGE_NONE &&
        f->stored_state == JH_PROV_VERIFIED)
      return leave;
    return put(JH_CHANGE_NONE, JH_PROV_VERIFIED, JH_PROV_VERIFIED);
  }
  /* An Added order that went out: its target has not been seen yet;
   * sending another would create a second one. */
  if (f->has_assignment && f->stored_change == JH_CHANGE_ADDED &&
      (f->stored_state == JH_PROV_TRANSMITTED ||
       f->stored_state == JH_PROV_EXECUTED))
    return leave;
  if (!f->allow_add)
    return leave;
  return order(f, JH_CHANGE_ADDED);
}

/* The owner is gone, or the type rules no longer give it the type. */
static jh_rm_decision unwanted(const jh_rm_facts *f) {
  if (!f->has_assignment)
    return leave;
  if (!f->has_target)
    return drop;
  if (!f->allow_remove)
    return leave;
  return order(f, JH_CHANGE_DELETED);
}

/* A target resource that no owner explains. */
static jh_rm_decision orphan(const jh_rm_facts *f) {
  if (!f->has_target)
    return f->has_assignment ? drop : leave;
  if (f->remove_orphans && f->allow_remove)
    return order(f, JH_CHANGE_DELETED);
  if (f->has_assignment && f->stored_change == JH_CHANGE_NONE &&
      f->stored_state == JH_PROV_NONE)
    return leave;
  return put(JH_CHANGE_NONE, JH_PROV_NONE, JH_PROV_NONE);
}

jh_rm_decision jh_rm_decide(const jh_rm_facts *f) {
  if (f->has_assignment && f->declined)
    return leave;
  if (!f->has_owner)
    return orphan(f);
  if (!f->expected)
    return unwanted(f);
  return wanted(f);
}
