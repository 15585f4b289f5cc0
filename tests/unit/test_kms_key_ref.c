/*
 * test_kms_key_ref.c - what may pin a KMS key, and when two names are the
 * same key (common/kms_key_ref.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "common/kms_key_ref.h"

#define UUID "1234abcd-12ab-34cd-56ef-1234567890ab"
#define ARN  "arn:aws:kms:us-east-1:111122223333:key/" UUID

static void
test_accepted(void **state)
{
	static const char *const good[] = {
		UUID, ARN, "mrk-1234abcd12ab34cd56ef1234567890ab",
		"arn:aws-cn:kms:cn-north-1:111122223333:key/" UUID,
		"arn:aws-us-gov:kms:us-gov-west-1:111122223333:key/" UUID,
		"arn:aws:kms:eu-west-1:111122223333:key/"
		    "mrk-1234abcd12ab34cd56ef1234567890ab",
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		assert_int_equal(kms_key_ref_check(good[i], NULL), 0);
}

static void
test_refused(void **state)
{
	static const struct {
		const char *ref, *why;
	} bad[] = {
		{ "alias/tsk", "alias" },
		{ "arn:aws:kms:us-east-1:111122223333:alias/tsk", "alias" },
		{ "", "1 to" },
		{ "1234ABCD-12ab-34cd-56ef-1234567890ab", "key id" },
		{ "1234abcd-12ab-34cd-56ef-1234567890a", "key id" },
		{ "1234abcd_12ab-34cd-56ef-1234567890ab", "key id" },
		{ "mrk-1234", "key id" },
		{ "arn:aws:s3:us-east-1:111122223333:key/" UUID, "service" },
		{ "arn:gcp:kms:us-east-1:111122223333:key/" UUID, "partition" },
		{ "arn:aws:kms::111122223333:key/" UUID, "region" },
		{ "arn:aws:kms:us-east-1:1111:key/" UUID, "account" },
		{ "arn:aws:kms:us-east-1:111122223333:key/x", "key/" },
		{ "arn:aws:kms:us-east-1:111122223333:key/" UUID "\r\n", "key/" },
		{ ARN " ", "key/" },
	};
	struct reason why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reason_clear(&why);
		assert_int_equal(kms_key_ref_check(bad[i].ref, &why), -1);
		assert_non_null(strstr(why.text, bad[i].why));
	}
}

static void
test_same_key(void **state)
{
	(void)state;
	assert_string_equal(kms_key_ref_id(ARN), UUID);
	assert_string_equal(kms_key_ref_id(UUID), UUID);
	assert_true(kms_key_ref_same(ARN, UUID));
	assert_true(kms_key_ref_same(UUID, ARN));
	assert_true(kms_key_ref_same(ARN, ARN));
	assert_true(kms_key_ref_same("alias/x", "alias/x"));
	/* Another account or Region is another key, whatever its id. */
	assert_false(kms_key_ref_same(ARN,
	    "arn:aws:kms:us-east-1:444455556666:key/" UUID));
	assert_false(kms_key_ref_same(ARN,
	    "arn:aws:kms:eu-west-1:111122223333:key/" UUID));
	assert_false(kms_key_ref_same(UUID,
	    "ffffffff-12ab-34cd-56ef-1234567890ab"));
	assert_false(kms_key_ref_same("alias/x", "alias/y"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepted),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_same_key),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
