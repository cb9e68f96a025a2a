/*
 * ws_ui.h - the inbox's pages (ws_pages.c), for ws_ui.c. Internal to
 * service/. Each appends a whole HTML document to `b`.
 */
#ifndef TACTUS_WS_UI_H
#define TACTUS_WS_UI_H

#include "ws_internal.h"

void ws_page_begin(tx_buf *b, const char *title, const char *page, const ws_req *r);
void ws_page_end(tx_buf *b);
void ws_page_login(tx_buf *b, const char *pre, const char *error);
/* pending: tj_human_pending's list; answered: requests answered lately. */
void ws_page_inbox(tx_buf *b, const ws_req *r, const cJSON *pending, const cJSON *answered);
/* view: ws_approval_json(whole) of h. */
void ws_page_request(tx_buf *b, const ws_req *r, const tj_human *h, const cJSON *view, const char *error);

#endif
