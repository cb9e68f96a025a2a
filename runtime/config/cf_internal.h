/*
 * cf_internal.h - what the files of runtime/config/ share (not a public
 * header).
 */
#ifndef TACTUS_CF_INTERNAL_H
#define TACTUS_CF_INTERNAL_H

#include "config.h"

#define CONFIG_MAX_FILE (4u * 1024u * 1024u)
#define CONFIG_MAX_DEPTH 64

/* cf_yaml_parse, and with `marks` (may be NULL) an object of "dotted.path"
 * -> "line:column" for every key read, for messages that point at a key
 * (cf_yaml.c). */
tx_status cf_yaml_parse_marked(const char *text, size_t len, const char *name, cJSON **out,
                               cJSON *marks, char *err, size_t errlen);

#endif
