/*
 * du_internal.h - what the files of runtime/durable/ share (not a public
 * header).
 */
#ifndef TACTUS_DU_INTERNAL_H
#define TACTUS_DU_INTERNAL_H

#include "durable.h"
#include "hostlib.h"
#include "proto.h"

/* What differs between a recorded request and a new one, for people: the
 * first differing JSON path with its old and new values (du_diff.c). */
void du_describe_change(const cJSON *old_params, const cJSON *new_params, char *out, size_t cap);

#endif
