/*
 * jobhost/jobhost.h — the whole jobhost SDK in one include.
 *
 * A plugin includes this header only; it needs no other jobhost header and
 * no host library: `pkg-config --cflags jobhost-sdk` is all it compiles
 * with, and it links against nothing of jobhost's.
 */
#ifndef JOBHOST_JOBHOST_H
#define JOBHOST_JOBHOST_H

#include <jobhost/version.h>
#include <jobhost/error.h>
#include <jobhost/param.h>
#include <jobhost/services.h>
#include <jobhost/connector.h>
#include <jobhost/plugin.h>

#endif /* JOBHOST_JOBHOST_H */
