/*
 * xml_model.h — Identity Manager model elements to jobhost model YAML
 * (doc/xml-import.md, "The model"; doc/model.md has the sections).
 *
 *   EntityType + Property          entity_types (properties; a ForeignKey
 *                                  property is a link or links, its target
 *                                  and kind read from its EntityAssociation)
 *   EntityTypeMapping + Property   entity_type_mappings
 *   EntityAssociationMapping       association_mappings (with the
 *                                  EntityAssociation it fills)
 *   EntityPropertyExpression       entity_property_expressions
 *   ResourceType + TypeRule,       resource_types (type_rules, scalar_rules,
 *     ScalarRule, NavigationRule   navigation_rules)
 *   ResourceCorrelationRule        correlation_rules of its resource type
 *   ResourceClassificationRule     resource_classification_rules
 *   ProfileRuleContext +           profile_rule_contexts (profile_rules)
 *     ProfileRule
 *
 * C# expressions are translated to Lua (xml_csharp.h). What has no jobhost
 * counterpart is reported at its file:line:column: an error, or with
 * `lenient` a warning, the part left out and kept as a comment (a rule
 * whose C# is outside the subset is left out whole, its C# kept as a
 * comment). Connector and Connection stay with xml_import.c.
 */
#ifndef JH_XML_MODEL_H
#define JH_XML_MODEL_H

#include <stddef.h>

#include "diag.h"
#include "xml_import.h"
#include "xml_read.h"

/* Nonzero when `name` (an element of ConfigurationFile, in the Identity
 * Manager namespace) is a model element this module imports. */
int jh_xml_model_element(const char *name);

/*
 * The model sections of the model elements of files[0..nfiles) (their
 * roots already checked to be ConfigurationFile), as YAML lines starting
 * at column 0, with the origin of each line (file = index in files). Each
 * problem is added to diags. Returns 0 with *out filled (out->yaml NULL
 * when there is no model element), or -ENOMEM; out->files stays NULL.
 * Clear *out with jh_xml_output_clear.
 */
int jh_xml_model_write(const jh_xml_file *files, size_t nfiles, int lenient,
                       jh_xml_output *out, jh_diags *diags);

#endif /* JH_XML_MODEL_H */
