/*
 * xml_csharp.h — Identity Manager's C# expressions (`C#:param:body`)
 * translated to jobhost's Lua form (`lua:param:body`), for a documented
 * subset (doc/xml-import.md, "C# expressions"):
 *
 *   body         `return EXPR;` (the `return` and the `;` optional)
 *   EXPR         string literals ("..." with \" \\ \n \t \r \0 \', and
 *                verbatim @"..."), integer literals, null, true, false,
 *                the parameter and property access on it (`p.A.B`),
 *                null-conditional access `?.`, parentheses,
 *                `+` (string concatenation; null counts as ""),
 *                == != < > <= >=, && || !, `c ? a : b`, `a ?? b`,
 *                the methods ToLower, ToUpper, ToLowerInvariant,
 *                ToUpperInvariant, Trim, Substring, Contains, StartsWith,
 *                EndsWith, Replace, and the built-in functions called as
 *                methods (`x.Simplify()`, `x.ToTitle("tr")`), whose names
 *                are kept.
 *
 * The Lua body starts with the helper functions the translation uses
 * (local functions named cs_*), then `return` and the expression. It is
 * one line, so a Lua error points at the attribute's line.
 *
 * Pure: no I/O, no global state.
 */
#ifndef JH_XML_CSHARP_H
#define JH_XML_CSHARP_H

#include <stddef.h>

/* Nonzero when expr is written in Identity Manager's C# form
 * ("C#:" prefix). */
int jh_cs_is_csharp(const char *expr);

/*
 * Translate `expr` ("C#:param:body") to "lua:param:body". Returns 0 with
 * *lua malloc'd; -EINVAL when the expression is outside the subset or
 * malformed, with a message in err (naming the part not understood and
 * what the subset has instead) and *at the byte offset in expr where the
 * problem lies; -ENOMEM. *lua is NULL unless 0 is returned.
 */
int jh_cs_to_lua(const char *expr, char **lua, size_t *at, char *err,
                 size_t errsize);

#endif /* JH_XML_CSHARP_H */
