/*
 * exprfn_dates.c — the dates functions of expressions (exprfn_impl.h).
 * The table is filled as the functions are written.
 */
#include "config.h"

#include "exprfn_impl.h"

const struct jh_exprfn jh_exprfn_dates[] = {{.name = NULL}};
