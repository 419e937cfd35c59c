/*
 * atomic_file.h — replace a file so that readers see the old one or the
 * whole new one, never a part.
 */
#ifndef JH_ATOMIC_FILE_H
#define JH_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Write data to a temporary file beside path (unique to this process),
 * fsync it, rename it over path. On failure nothing is left behind.
 * Returns 0 or a negative errno. */
int jh_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode);

/* fsync the folder dir, so that a rename or a new entry in it is
 * durable. 0 or a negative errno. */
int jh_fsync_dir(const char *dir);

#endif /* JH_ATOMIC_FILE_H */
