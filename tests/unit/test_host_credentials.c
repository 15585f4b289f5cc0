/*
 * test_host_credentials.c - host/credentials: reading IMDSv2's answers (the
 * credentials document, the role listing), the endpoint override, the
 * environment source and the copies the gateway hands out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "common/timefmt.h"
#include "host/credentials/credentials.h"

static const char good_doc[] =
"{\n"
"  \"Code\" : \"Success\",\n"
"  \"LastUpdated\" : \"2026-11-24T11:00:00Z\",\n"
"  \"Type\" : \"AWS-HMAC\",\n"
"  \"AccessKeyId\" : \"ASIAEXAMPLEKEY123456\",\n"
"  \"SecretAccessKey\" : \"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\",\n"
"  \"Token\" : \"IQoJb3JpZ2luX2VjEXAMPLE+token/==\",\n"
"  \"Expiration\" : \"2026-11-24T17:30:00Z\"\n"
"}\n";

static void
test_parse_good(void **state)
{
	struct host_credentials hc = HOST_CREDENTIALS_INIT;
	struct enclave_credentials v;
	struct reason why;
	time_t want;

	(void)state;
	assert_int_equal(imds_parse_credentials(good_doc, strlen(good_doc),
	    &hc, &why), 0);
	assert_true(host_credentials_present(&hc));
	host_credentials_view(&hc, &v);
	assert_string_equal(v.access_key_id, "ASIAEXAMPLEKEY123456");
	assert_string_equal(v.secret_access_key,
	    "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
	assert_string_equal(v.session_token, "IQoJb3JpZ2luX2VjEXAMPLE+token/==");
	assert_int_equal(hc.access_key_id.len, 20);
	assert_int_equal(timefmt_parse_rfc3339("2026-11-24T17:30:00Z", &want), 0);
	assert_true(hc.expiration == want);
	host_credentials_clear(&hc);
	assert_false(host_credentials_present(&hc));
	assert_null(hc.secret_access_key.data);
}

/* Every malformed document fails, says why, and leaves nothing behind. */
static void
test_parse_bad(void **state)
{
	static const char *const docs[] = {
		"",
		"not json",
		"[1,2]",
		"{\"Code\":\"AssumeRoleUnauthorizedAccess\",\"AccessKeyId\":\"A\","
		    "\"SecretAccessKey\":\"S\",\"Token\":\"T\","
		    "\"Expiration\":\"2026-11-24T17:30:00Z\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\","
		    "\"Expiration\":\"2026-11-24T17:30:00Z\"}",
		"{\"AccessKeyId\":\"\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
		    "\"Expiration\":\"2026-11-24T17:30:00Z\"}",
		"{\"AccessKeyId\":7,\"SecretAccessKey\":\"S\",\"Token\":\"T\","
		    "\"Expiration\":\"2026-11-24T17:30:00Z\"}",
		"{\"AccessKeyId\":\"A B\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
		    "\"Expiration\":\"2026-11-24T17:30:00Z\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
		    "\"Expiration\":\"tomorrow\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"S\",\"Token\":\"T\","
		    "\"Expiration\":\"2026-11-24T17:30:00Z\"} trailing",
	};
	struct host_credentials hc = HOST_CREDENTIALS_INIT;
	struct reason why;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(docs) / sizeof(docs[0]); i++) {
		reason_clear(&why);
		assert_int_equal(imds_parse_credentials(docs[i], strlen(docs[i]),
		    &hc, &why), -1);
		assert_true(why.text[0] != '\0');
		assert_false(host_credentials_present(&hc));
		/* A failure never quotes the secret. */
		assert_null(strstr(why.text, "\"S\""));
	}
	assert_int_equal(imds_parse_credentials(docs[3], strlen(docs[3]), &hc,
	    &why), -1);
	assert_non_null(strstr(why.text, "AssumeRoleUnauthorizedAccess"));
}

static void
test_parse_role(void **state)
{
	struct reason why;
	char role[32];

	(void)state;
	assert_int_equal(imds_parse_role("my-role", 7, role, sizeof(role),
	    &why), 0);
	assert_string_equal(role, "my-role");
	assert_int_equal(imds_parse_role("first.role@x\nsecond\n", 20, role,
	    sizeof(role), &why), 0);
	assert_string_equal(role, "first.role@x");
	assert_int_equal(imds_parse_role("\r\nr_1=+,\r\n", 10, role,
	    sizeof(role), &why), 0);
	assert_string_equal(role, "r_1=+,");
	assert_int_equal(imds_parse_role("", 0, role, sizeof(role), &why), -1);
	assert_int_equal(imds_parse_role("../etc", 6, role, sizeof(role), &why),
	    -1);
	assert_int_equal(imds_parse_role("a b", 3, role, sizeof(role), &why),
	    -1);
	assert_int_equal(imds_parse_role("a?x=1", 5, role, sizeof(role), &why),
	    -1);
	assert_int_equal(imds_parse_role("abcdefghijklmnopqrstuvwxyz0123456789",
	    36, role, sizeof(role), &why), -1);
}

static void
test_endpoint(void **state)
{
	char out[128];

	(void)state;
	unsetenv(IMDS_ENDPOINT_ENV);
	assert_string_equal(imds_endpoint(NULL, out, sizeof(out)),
	    "http://169.254.169.254");
	setenv(IMDS_ENDPOINT_ENV, "http://127.0.0.1:1338/", 1);
	assert_string_equal(imds_endpoint(NULL, out, sizeof(out)),
	    "http://127.0.0.1:1338");
	assert_string_equal(imds_endpoint("http://[fd00:ec2::254]//", out,
	    sizeof(out)), "http://[fd00:ec2::254]");
	unsetenv(IMDS_ENDPOINT_ENV);
}

static void
test_env_and_copy(void **state)
{
	struct host_credentials hc = HOST_CREDENTIALS_INIT, copy =
	    HOST_CREDENTIALS_INIT;
	enum host_credentials_source src;
	struct reason why;

	(void)state;
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	setenv("AWS_SESSION_TOKEN", "tok", 1);
	assert_int_equal(host_credentials_from_env(&hc, 0, &why),
	    -1);
	assert_non_null(strstr(why.text,
	    "AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY"));
	assert_null(strstr(why.text, "AWS_SESSION_TOKEN"));
	setenv("AWS_ACCESS_KEY_ID", "akid", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "sekrit", 1);
	assert_int_equal(host_credentials_from_env(&hc, 1, &why), 0);
	assert_string_equal((char *)hc.secret_access_key.data, "sekrit");
	assert_true(hc.expiration == 0);
	/* wipe_env=1: the environment's copy is gone. */
	assert_int_not_equal(strcmp(getenv("AWS_SECRET_ACCESS_KEY"), "sekrit"),
	    0);
	assert_int_equal(host_credentials_copy(&copy, &hc), 0);
	assert_string_equal((char *)copy.session_token.data, "tok");
	assert_true(copy.session_token.data != hc.session_token.data);
	host_credentials_clear(&hc);
	assert_string_equal((char *)copy.access_key_id.data, "akid");
	host_credentials_clear(&copy);
	assert_int_equal(host_credentials_source_parse("imds", &src), 0);
	assert_int_equal(src, HOST_CREDS_IMDS);
	assert_int_equal(host_credentials_source_parse("env", &src), 0);
	assert_int_equal(src, HOST_CREDS_ENV);
	assert_int_equal(host_credentials_source_parse("vault", &src), -1);
}

/* Nothing listens on port 9 of loopback: a clear failure, no credentials. */
static void
test_fetch_unreachable(void **state)
{
	struct host_credentials hc = HOST_CREDENTIALS_INIT;
	struct reason why;

	(void)state;
	assert_int_equal(imds_global_init(), 0);
	assert_int_equal(host_credentials_from_imds(&hc, "http://127.0.0.1:9",
	    500, &why), -1);
	assert_non_null(strstr(why.text, "metadata service"));
	assert_false(host_credentials_present(&hc));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_role),
		cmocka_unit_test(test_endpoint),
		cmocka_unit_test(test_env_and_copy),
		cmocka_unit_test(test_fetch_unreachable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
