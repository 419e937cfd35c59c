/*
 * file_writer.h — whole files written atomically and made durable by a
 * thread of their own, while the caller builds the next ones.
 *
 * A task that writes many files (the provisioning orders) hands each
 * finished buffer over and goes on; the thread writes it under a
 * temporary name, fsyncs it and renames it into place
 * (jh_write_file_atomic), in the order given. At most
 * JH_FILE_WRITER_QUEUE files wait; a caller handing over one more waits
 * for room, so that memory stays bounded. The first failure stops the
 * writing: what comes after it is dropped, and the failure, with its
 * file, is returned by every later call. The caller makes the files'
 * folders durable itself (jh_fsync_dir) once jh_file_writer_drain has
 * returned 0.
 *
 * One thread at a time hands files over or drains (the orders task's
 * builder hands them over, the task drains once the builder is idle);
 * the writer's thread touches nothing else.
 */
#ifndef JH_FILE_WRITER_H
#define JH_FILE_WRITER_H

#include <stddef.h>
#include <sys/types.h>

/* Files waiting to be written, at most. */
#define JH_FILE_WRITER_QUEUE 4

typedef struct jh_file_writer jh_file_writer;

/* Start a writer (its thread) whose files get mode: 0 and *out, or a
 * negative errno. */
int jh_file_writer_start(mode_t mode, jh_file_writer **out);

/* Hand buf (malloc'd, len bytes) over to be written at path; the writer
 * frees it, on every path. 0, or the first failure so far (a negative
 * errno, this call's own running out of memory included;
 * jh_file_writer_drain says which file). */
int jh_file_writer_put(jh_file_writer *w, const char *path, char *buf,
                       size_t len);

/* Wait until every file handed over is written and durable: 0, or the
 * first failure with "<path>: cannot write: <reason>" in err. */
int jh_file_writer_drain(jh_file_writer *w, char *err, size_t errsize);

/* Drain, stop the thread and free. NULL is a no-op. */
void jh_file_writer_stop(jh_file_writer *w);

#endif
