/*
 * test_wire_error.c - common/wire_error: the table holds every code
 * docs/protocol.md lists and nothing else, each code once, lookups by
 * string round-trip, and the gateway's HTTP statuses stay what they were
 * (test_gateway_errors.c: the gateway's lookup).
 *
 * Run from the repository's top (as `make unit` does): the test reads
 * docs/protocol.md's "Error codes at a glance" table.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "common/wire_error.h"

#define DOC_CODES_MAX 64

struct doc_codes {
	char   code[DOC_CODES_MAX][64];
	size_t n;
};

/* The `code` of each row "| `code` ..." under "### Error codes at a glance". */
static void
read_doc_codes(struct doc_codes *d)
{
	FILE *f = fopen("docs/protocol.md", "r");
	char line[1024];
	int in_table = 0;

	assert_non_null(f);
	d->n = 0;
	while (fgets(line, sizeof(line), f) != NULL) {
		const char *start, *end;

		if (strncmp(line, "### ", 4) == 0) {
			in_table = strcmp(line, "### Error codes at a glance\n") == 0;
			continue;
		}
		if (!in_table || strncmp(line, "| `", 3) != 0)
			continue;
		start = line + 3;
		end = strchr(start, '`');
		assert_non_null(end);
		assert_true(d->n < DOC_CODES_MAX);
		assert_true((size_t)(end - start) < sizeof(d->code[0]));
		memcpy(d->code[d->n], start, (size_t)(end - start));
		d->code[d->n][end - start] = '\0';
		if (strcmp(d->code[d->n], "msg") != 0)	/* the header row */
			d->n++;
	}
	fclose(f);
}

static void
test_table_is_the_documented_list(void **state)
{
	struct doc_codes d;
	enum wire_error e;
	size_t i;
	int found;

	(void)state;
	read_doc_codes(&d);
	assert_int_equal(d.n, WIRE_ERROR_COUNT);
	for (i = 0; i < d.n; i++) {
		assert_int_equal(wire_error_lookup(d.code[i], &e), 0);
		assert_string_equal(wire_error_code(e), d.code[i]);
	}
	for (e = 0; e < WIRE_ERROR_COUNT; e++) {
		found = 0;
		for (i = 0; i < d.n; i++)
			found += strcmp(d.code[i], wire_error_code(e)) == 0;
		assert_int_equal(found, 1);
	}
}

static void
test_codes_unique_and_round_trip(void **state)
{
	enum wire_error e, f, got;

	(void)state;
	for (e = 0; e < WIRE_ERROR_COUNT; e++) {
		assert_non_null(wire_error_code(e));
		assert_true(wire_error_meaning(e)[0] != '\0');
		assert_int_equal(wire_error_lookup(wire_error_code(e), &got), 0);
		assert_int_equal(got, e);
		assert_true(wire_error_is(wire_error_code(e), e));
		for (f = e + 1; f < WIRE_ERROR_COUNT; f++) {
			assert_string_not_equal(wire_error_code(e),
			    wire_error_code(f));
			assert_false(wire_error_is(wire_error_code(e), f));
		}
	}
	assert_int_equal(wire_error_lookup("pong", &got), -1);
	assert_int_equal(wire_error_lookup("", &got), -1);
	assert_int_equal(wire_error_lookup("BUSY", &got), -1);
	assert_int_equal(wire_error_lookup("busy ", &got), -1);
	assert_int_equal(wire_error_lookup(NULL, &got), -1);
	assert_false(wire_error_is(NULL, WIRE_BUSY));
	assert_false(wire_error_is("unavailable", WIRE_BUSY));
}

/* The statuses the gateway answered with before the table (errors.h). */
static void
test_http_statuses_unchanged(void **state)
{
	static const struct {
		const char *code;
		int         status;
	} want[] = {
		{ "missing_fields", 400 }, { "invalid_field", 400 },
		{ "invalid_hex", 400 }, { "invalid_ciphertext", 400 },
		{ "invalid_json", 400 }, { "unknown_type", 400 },
		{ "unknown_key", 400 }, { "too_large", 413 },
		{ "decrypt_failed", 422 }, { "step_failed", 422 },
		{ "grant_required", 403 }, { "grant_invalid", 403 },
		{ "not_configured", 503 }, { "key_exhausted", 503 },
		{ "busy", 503 }, { "kms_decrypt_failed", 503 },
		{ "kms_timeout", 503 }, { "invalid_key", 503 },
		{ "too_many_keys", 503 }, { "internal_error", 502 },
		{ "attestation_unavailable", 502 },
	};
	enum wire_error e;
	size_t i;

	(void)state;
	assert_int_equal(sizeof(want) / sizeof(want[0]), WIRE_ERROR_COUNT);
	for (i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		assert_int_equal(wire_error_lookup(want[i].code, &e), 0);
		assert_int_equal(wire_error_http_status(e), want[i].status);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table_is_the_documented_list),
		cmocka_unit_test(test_codes_unique_and_round_trip),
		cmocka_unit_test(test_http_statuses_unchanged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
