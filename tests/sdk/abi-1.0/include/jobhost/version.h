/*
 * jobhost/version.h — version of the jobhost SDK (as configure generated it for release 0.1.0).
 *
 * Two numbers live here and they mean different things:
 *
 *   JOBHOST_VERSION_*   the release of jobhost these headers come from;
 *   JOBHOST_ABI_*       the plugin ABI these headers describe.
 *
 * ABI policy: within one ABI major, the minor only grows and only adds
 * (new members at the end of growable structs, new entries at the end of
 * the host-services table, reserved slots taken in fixed-size structs).
 * A host accepts a plugin whose ABI major equals its own and whose minor
 * is not newer than its own. Anything that breaks an existing plugin bumps
 * the major.
 */
#ifndef JOBHOST_VERSION_H
#define JOBHOST_VERSION_H

#define JOBHOST_VERSION_MAJOR 0
#define JOBHOST_VERSION_MINOR 1
#define JOBHOST_VERSION_PATCH 0
#define JOBHOST_VERSION_STRING "0.1.0"

/* 0xMMmmpp, monotonic across releases: compare with < and >. */
#define JOBHOST_VERSION_HEX                                                   \
  ((JOBHOST_VERSION_MAJOR << 16) | (JOBHOST_VERSION_MINOR << 8) |             \
   JOBHOST_VERSION_PATCH)

#define JOBHOST_VERSION_AT_LEAST(major, minor, patch)                         \
  (JOBHOST_VERSION_HEX >= (((major) << 16) | ((minor) << 8) | (patch)))

/* Plugin ABI described by these headers. */
#define JOBHOST_ABI_MAJOR 1
#define JOBHOST_ABI_MINOR 0

/*
 * jobhost_version — the release these headers belong to.
 *
 * Returns a static string such as "0.1.0"; the caller must not free it.
 * A plugin compares it with svc->host_version (the running host's release)
 * when it needs to know both.
 */
static inline const char *jobhost_version(void) {
  return JOBHOST_VERSION_STRING;
}

#endif /* JOBHOST_VERSION_H */
