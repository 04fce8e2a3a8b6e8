/* conf.h - a small reader for the collectd configuration syntax, for the
 * example host: `Key value...` lines, `<Block "arg">...</Block>` nesting,
 * quoted strings, numbers, booleans, comments and `\` line continuation.
 * The result is the plugin ABI's own tree (kms_plugin_config_item), so a
 * block can be handed to configure_tree as it is. */
#ifndef KMSCKS_HOST_CONF_H
#define KMSCKS_HOST_CONF_H

#include <stddef.h>
#include "kms/plugin.h"

/* Parses the file at path. Returns the root (key "", children = the
 * top-level items), or NULL with a "file:line: what" message in
 * err[0..size). Free with conf_free. */
kms_plugin_config_item *conf_load(const char *path, char *err, size_t size);

/* Parses text[0..len); name is used in messages. */
kms_plugin_config_item *conf_parse(const char *name, const char *text,
                                   size_t len, char *err, size_t size);

void conf_free(kms_plugin_config_item *root);

/* The first child of parent whose key matches (case-insensitive) and, if
 * arg is not NULL, whose first value is the string arg. NULL when none. */
const kms_plugin_config_item *conf_find(const kms_plugin_config_item *parent,
                                        const char *key, const char *arg);

/* The single string value of item, or NULL (wrong count or type). */
const char *conf_string(const kms_plugin_config_item *item);

#endif
