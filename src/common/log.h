/*
 * log.h - one line per event on stderr: UTC time, level, message.
 *
 *   2026-11-24T11:37:02Z INFO listening on tcp:127.0.0.1:5000
 *
 * Each line goes out in one write(2), so lines from different threads
 * never interleave. Never pass a secret to these functions.
 */
#ifndef COMMON_LOG_H
#define COMMON_LOG_H

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };

/* How --log-level is spelt on every command line, for usage messages. */
#define LOG_LEVEL_NAMES "debug, info, warn or error"

void log_set_level(enum log_level min);
/* "debug", "info", "warn" or "error" (exactly) to *out: 0, else -1. */
int  log_level_parse(const char *text, enum log_level *out);
void log_msg(enum log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)
#define log_info(...)  log_msg(LOG_INFO, __VA_ARGS__)
#define log_warn(...)  log_msg(LOG_WARN, __VA_ARGS__)
#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)

#endif
