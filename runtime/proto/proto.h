/*
 * proto.h - the frame codec of the host <-> runtime protocol (docs/protocol.md),
 * shared by both sides.
 *
 * A frame is a 4-byte big-endian length N (1..TP_MAX_FRAME) followed by N
 * bytes of one JSON object. The decoder is incremental (feed it whatever
 * read() returned) and never grows past its cap; the blocking helpers read
 * and write whole frames on a file descriptor.
 *
 * Errors: tx_status. TX_ELIMIT for a length over the cap, TX_EINVAL for a
 * zero length or a payload that is not a JSON object (or holds a number out
 * of a double's range, which would not encode back), TX_EIO for a read or
 * write failure or end of file inside a frame, TX_ENOENT for a clean end of
 * file between frames.
 */
#ifndef TACTUS_PROTO_H
#define TACTUS_PROTO_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "base.h"

#define TP_PROTOCOL_VERSION 1
#define TP_MAX_FRAME (16u * 1024u * 1024u)
/* How deep JSON given to a run (inputs, answers, Json.decode) may nest:
 * Json.encode refuses deeper values, so a run could not return them. */
#define TP_JSON_MAX_DEPTH 200
/* 2^53: past it, a JSON number (a double) no longer holds every whole
 * number, so an integer beyond it would arrive changed. */
#define TP_JSON_MAX_EXACT 9007199254740992.0

/* ---- incremental decoder ------------------------------------------------------------ */

typedef struct {
    tx_buf in;      /* bytes received and not yet consumed */
    size_t max;     /* frame cap */
    bool failed;    /* sticky: a protocol error was seen */
} tp_decoder;

void tp_decoder_init(tp_decoder *d, size_t max_frame);
void tp_decoder_free(tp_decoder *d);
tx_status tp_decoder_feed(tp_decoder *d, const void *bytes, size_t n);
/* Takes the next whole frame's JSON, or sets *json = NULL when more bytes
 * are needed. The caller frees *json with cJSON_Delete. */
tx_status tp_decoder_next(tp_decoder *d, cJSON **json);

/* ---- encoding ---------------------------------------------------------------------- */

/* Appends a frame holding `json` (printed compactly) to `out`. */
tx_status tp_encode(const cJSON *json, tx_buf *out);
/* Appends a frame around already-serialised JSON text. */
tx_status tp_encode_text(const char *text, size_t n, tx_buf *out);

/* ---- blocking I/O on a file descriptor --------------------------------------------- */

tx_status tp_write_frame(int fd, const cJSON *json);
/* Reads exactly one frame. On TX_OK *json is the parsed object. */
tx_status tp_read_frame(int fd, size_t max_frame, cJSON **json);

/* ---- message helpers ----------------------------------------------------------------- */

/* {"id": id, "method": method, "params": params}; takes ownership of params
 * (which may be NULL for {}). id < 0 makes a notification (no "id"). */
cJSON *tp_request(long id, const char *method, cJSON *params);
/* {"id": id, "event": event, "data": data} */
cJSON *tp_event(long id, const char *event, cJSON *data);
/* {"id": id, "event": "error", "error": {"type": type, "message": message}} */
cJSON *tp_error(long id, const char *type, const char *message);

/* ---- JSON text from people and procedures ---------------------------------------- */
/* Parses one JSON value from s[0..n) for input that people or procedures
 * give (--input-json, answers, Json.decode, datasets), refusing with
 * "line L, column C: what; the fix" in err what cJSON would refuse without a
 * reason or accept silently wrong:
 *   - a NUL in a string (\u0000): cJSON would cut the string there;
 *   - a lone UTF-16 surrogate (\ud800 not followed by \udc00-\udfff);
 *   - nesting deeper than max_depth;
 *   - a number beyond a double's range (1e400), or a whole number from
 *     +-2^53 on (it would arrive as another number);
 *   - a key twice in one object (one of the values would be lost);
 *   - bytes that are not UTF-8, a NUL byte, text after the value, and any
 *     other syntax error (with the text near it).
 * Returns the cJSON tree (free with cJSON_Delete), or NULL with err set. */
cJSON *tp_json_parse_strict(const char *s, size_t n, int max_depth, char *err, size_t cap);

#endif
