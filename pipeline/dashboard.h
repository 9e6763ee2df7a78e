/* dashboard.h - the live dashboard's page, served on / by --metrics-listen: one HTML document with its style and script inline, built from pipeline/dashboard/ at build time. */
#ifndef EDONU_DASHBOARD_H
#define EDONU_DASHBOARD_H

#include <stddef.h>

/* The page (UTF-8 HTML, not NUL-terminated in its length): it polls
 * /stats once a second and draws it. It names no other host: the build
 * (scripts/embed_page.py) refuses a page with an http:// or https://
 * reference, and the server sends it with a Content-Security-Policy that
 * lets it reach only the loader. Generated as dashboard_page.c. */
extern const char dashboard_page[];
extern const size_t dashboard_page_len;

#endif
