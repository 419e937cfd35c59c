/*
 * decision.h — the role model's decision for one assignment
 * (doc/provisioning.md, "Role-model decision"): a pure function of what
 * the rules expect, what the store holds and what correlation found.
 * rolemodel.c gathers the facts and writes what it decides.
 */
#ifndef JH_COMPUTE_DECISION_H
#define JH_COMPUTE_DECISION_H

/* What to do with the assignment. */
typedef enum jh_rm_action {
  JH_RM_LEAVE = 0, /* keep the stored assignment as it is (or none) */
  JH_RM_PUT,       /* write it with change_type, state and value states */
  JH_RM_REMOVE     /* remove the stored assignment */
} jh_rm_action;

/* The facts about one (resource type, owner) or one orphan target. */
typedef struct jh_rm_facts {
  int has_owner;       /* 0: a target no owner explains (an orphan) */
  int expected;        /* the type rules give the owner the resource type
                          (0 when the owner is gone) */
  int has_assignment;  /* one is stored */
  int stored_state;    /* its jh_prov_state */
  int stored_change;   /* its jh_change_type */
  int same_policy;     /* stored policy hash and target equal the new ones */
  int declined;        /* its declined hash equals the new policy hash */
  int has_target;      /* the target resource exists (kept or correlated) */
  int confidence;      /* of the correlation that found the target
                          (100 when it was not found by correlation) */
  int differing;       /* values whose observed differs from the policy */
  int blocked_type;    /* the resource type's block_provisioning */
  int blocked_task;    /* the task's block_provisioning or
                          block_all_resource_type_provisioning */
  int earlier_blocked; /* an earlier order on the target is Awaiting
                          Approval */
  int allow_add, allow_remove, remove_orphans;
} jh_rm_facts;

typedef struct jh_rm_decision {
  jh_rm_action action;
  int change_type; /* jh_change_type, when PUT */
  int state;       /* the assignment's state, when PUT */
  int value_state; /* the state of each value whose observed value differs
                      from the policy (the others are Verified) */
} jh_rm_decision;

/* Whether an order of these facts must wait for a review. */
int jh_rm_blocked(const jh_rm_facts *f);

/* Decide. Never fails. */
jh_rm_decision jh_rm_decide(const jh_rm_facts *f);

#endif /* JH_COMPUTE_DECISION_H */
