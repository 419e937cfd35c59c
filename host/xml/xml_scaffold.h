/*
 * xml_scaffold.h — Identity Manager's job scaffolds (CreateConnectorSynchro
 * Complete, CreateConnectorSynchroIncremental, CreateAgentSynchroComplete,
 * CreateInitializationJob) as a pipeline job with a `scaffold:`
 * (doc/xml-import.md, "Scaffolds"; doc/scaffold.md).
 *
 * xml_import.c finds the elements and writes the lines; this file decides
 * what each attribute and child becomes, through the callbacks of
 * jh_xml_scaffold_io (so that the YAML emitter and the diagnostics stay
 * the importer's).
 */
#ifndef JH_XML_SCAFFOLD_H
#define JH_XML_SCAFFOLD_H

#include <libxml/tree.h>

/* The scaffold kind an element name stands for ("complete", ...), or NULL
 * when it is not a scaffold element. */
const char *jh_xml_scaffold_kind(const char *element);

/* The job identifier of scaffold element n (its JobIdentifier, else the
 * computed one), malloc'd; NULL when out of memory. */
char *jh_xml_scaffold_job_id(const xmlNode *n);

typedef struct jh_xml_scaffold_io {
  void *arg;
  /* "PREFIXkey: value", or "PREFIXkey:" opening a block when value is
   * NULL, or "PREFIX- value" when key is NULL; from n (or attribute a) */
  void (*line)(void *arg, const xmlNode *n, const xmlAttr *a,
               const char *prefix, const char *key, const char *value);
  /* a comment at the indentation of prefix */
  void (*comment)(void *arg, const xmlNode *n, const xmlAttr *a,
                  const char *prefix, const char *text);
  /* a part jobhost has no counterpart for: an error, or with --lenient a
   * warning (the caller then writes `left_out` as a comment) */
  void (*unsupported)(void *arg, const xmlNode *n, const xmlAttr *a,
                      const char *message, const char *left_out);
  /* the top-level task declared with this Identifier, or NULL */
  const xmlNode *(*decl)(void *arg, const char *id);
} jh_xml_scaffold_io;

/* Write scaffold element n as `job:` with its `scaffold:`. Returns 0 or
 * -ENOMEM. */
int jh_xml_scaffold_write(const xmlNode *n, const jh_xml_scaffold_io *io);

#endif /* JH_XML_SCAFFOLD_H */
