/*
 * fuzz.h — what the fuzz targets of tests/fuzz/ share.
 *
 * Each target defines LLVMFuzzerTestOneInput (and may define
 * LLVMFuzzerInitialize). It is linked either with libFuzzer
 * (./configure --enable-fuzz, `make fuzz`) or with replay.c, a small
 * driver that feeds it every file of the folders it is given, so that
 * make check replays the seeds and the saved crash inputs with any
 * compiler.
 */
#ifndef JH_FUZZ_H
#define JH_FUZZ_H

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A private folder for the files a target writes, made on first use and
 * removed at exit; never NULL (the process ends if it cannot be made). */
const char *jh_fuzz_dir(void);

/* Write data into jh_fuzz_dir()/name (replacing it) and return its path
 * in a static buffer; the process ends if the file cannot be written. */
const char *jh_fuzz_file(const char *name, const uint8_t *data, size_t size);

/* The folder of the built-in plugins: $JH_BUILTIN_PLUGIN_DIR, else the
 * build tree's (known at configure time). */
const char *jh_fuzz_plugin_dir(void);

#endif /* JH_FUZZ_H */
