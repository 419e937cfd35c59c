/*
 * model_load.h — the model sections of pipeline files (doc/model.md),
 * read into a jh_model (lib/model.h) by the pipeline loader.
 *
 * Sections may come from any file of a pipeline (the top file or an
 * included one), in any order; jh_model_parse_section adds what one
 * section holds, and jh_model_check then checks the references across
 * them once every file is read. Problems are reported through the walk's
 * diagnostics with file:line:column.
 */
#ifndef JH_MODEL_LOAD_H
#define JH_MODEL_LOAD_H

#include "loader.h"
#include "model.h"
#include "yaml_walk.h"

/* The top-level keys that are model sections. */
extern const char *const jh_model_sections[];
extern const size_t jh_model_nsections;

/* Nonzero when `key` is a model section. */
int jh_model_is_section(const char *key);

/* Read section `key` (its value node n) of file f into m. Connection
 * settings are checked against the schema of their package in reg. */
void jh_model_parse_section(jh_yw *w, const jh_yfile *f, const char *key,
                            yaml_node_t *n, jh_model *m,
                            const jh_registry *reg);

/* Check identifiers and references across the whole model, and write in
 * the defaults that depend on other sections (association keys). */
void jh_model_check(jh_yw *w, jh_model *m);

/* The package of a connection's schema, or NULL. */
const jobhost_package *jh_model_package(const jh_registry *reg,
                                        const jh_connection *c);

/* The schema entry of setting `name` of package pkg, or NULL. */
const jobhost_param *jh_package_setting(const jobhost_package *pkg,
                                        const char *name);

#endif /* JH_MODEL_LOAD_H */
