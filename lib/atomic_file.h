/*
 * atomic_file.h — replace a file so that readers see the old one or the
 * whole new one, never a part.
 */
#ifndef JH_ATOMIC_FILE_H
#define JH_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Write data to a temporary file beside path, named "<path>.tmp.<pid>"
 * (unique to this process), fsync it, rename it over path. On failure
 * nothing is left behind, but a writer killed midway leaves its temporary
 * file: jh_sweep_atomic_temps removes it. Returns 0 or a negative errno. */
int jh_write_file_atomic(const char *path, const void *data, size_t len,
                         mode_t mode);

/* Remove from the folder dir the temporary files of jh_write_file_atomic
 * ("<name>.tmp.<pid>"). With all zero, only those whose writer process
 * no longer exists: a live writer's file stays (so does one whose pid a
 * later process took, or whose writer is a zombie: a later sweep removes
 * it). With all nonzero, every one: for a caller that holds the lock
 * every writer of that folder takes. Returns how many were removed. */
int jh_sweep_atomic_temps(const char *dir, int all);

/* Whether name is a temporary file name of jh_write_file_atomic; sets
 * *pid to its writer's pid. */
int jh_atomic_temp_name(const char *name, long *pid);

/* Call fn(path, name, arg) for each entry name of the folder dir ("."
 * and ".." too), path being "dir/name"; an entry whose path would not fit
 * PATH_MAX is passed over. Returns how many calls returned nonzero; 0
 * when dir cannot be read. */
int jh_dir_each(const char *dir,
                int (*fn)(const char *path, const char *name, void *arg),
                void *arg);

/* "dir/name", malloc'd; NULL when out of memory. */
char *jh_path_join(const char *dir, const char *name);

/* fsync the folder dir, so that a rename or a new entry in it is
 * durable. 0 or a negative errno. */
int jh_fsync_dir(const char *dir);

/* Remove path, a file or a folder with everything under it (symbolic
 * links are removed, never followed). A path that does not exist is
 * removed already. Goes on past an entry it cannot remove; returns 0, or
 * the first failure as a negative errno. */
int jh_remove_tree(const char *path);

#endif /* JH_ATOMIC_FILE_H */
