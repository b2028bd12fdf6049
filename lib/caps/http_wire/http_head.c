// SPDX-License-Identifier: LGPL-2.1-or-later OR BSD-2-Clause
/* Parsing a captured HTTP/1 request head (see http_head.h). */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "caps/http_wire/http_head.h"

/* The line starting at p (up to end): its length without the line break, and where the
 * next one starts; false if the line is cut off. */
static bool next_line(const char *p, const char *end, size_t *line_len, const char **next)
{
	const char *nl = memchr(p, '\n', (size_t)(end - p));

	if (!nl)
		return false;
	*line_len = (size_t)(nl - p) - (nl > p && nl[-1] == '\r');
	*next = nl + 1;
	return true;
}

static bool is_token_char(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* The header value of line[len] if its name is name (case-insensitive), trimmed. */
static bool header_value(const char *line, size_t len, const char *name, const char **value,
			 size_t *value_len)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n))
		return false;
	line += n + 1;
	len -= n + 1;
	while (len && (*line == ' ' || *line == '\t'))
		line++, len--;
	while (len && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*value = line;
	*value_len = len;
	return true;
}

/* A Content-Length value: decimal digits only, at most 18 of them; -1 otherwise. */
static int64_t parse_length(const char *v, size_t len)
{
	int64_t x = 0;

	if (!len || len > 18)
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (v[i] < '0' || v[i] > '9')
			return -1;
		x = x * 10 + (v[i] - '0');
	}
	return x;
}

static bool contains_chunked(const char *v, size_t len)
{
	for (size_t i = 0; i + 7 <= len; i++)
		if (!strncasecmp(v + i, "chunked", 7))
			return true;
	return false;
}

int gp_http_head_parse(const char *buf, size_t len, struct gp_http_head *out)
{
	const char *end = buf + len, *p = buf, *target, *line, *v, *query = NULL;
	bool chunked = false, have_length = false;
	size_t m = 0, line_len, v_len;

	memset(out, 0, sizeof(*out));
	out->content_length = -1;
	while (m < len && is_token_char(buf[m]))
		m++;
	if (!m || m >= len || buf[m] != ' ')
		return -EINVAL;
	out->method_len = m;
	target = out->path = buf + m + 1;
	for (p = target; p < end && *p != ' ' && *p != '\r' && *p != '\n'; p++)
		if (*p == '?' && !query)
			query = p;
	if (query || p < end) /* else the path may go on past what was captured */
		out->path_len = (size_t)((query ? query : p) - target);
	if (!next_line(buf, end, &line_len, &p))
		return 0;
	while (next_line(p, end, &line_len, &v)) {
		line = p;
		p = v;
		if (!line_len) {
			out->complete = true;
			break;
		}
		if (header_value(line, line_len, "Content-Length", &v, &v_len)) {
			out->content_length = parse_length(v, v_len);
			have_length = true;
		} else if (header_value(line, line_len, "Transfer-Encoding", &v, &v_len)) {
			chunked |= contains_chunked(v, v_len);
		} else if (header_value(line, line_len, "Host", &v, &v_len) && !out->host) {
			out->host = v;
			out->host_len = v_len;
		}
	}
	if (chunked)
		out->content_length = -1;
	else if (!have_length && out->complete)
		out->content_length = 0;
	return 0;
}
