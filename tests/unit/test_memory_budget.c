/*
 * test_memory_budget.c - common/memory_budget: claims stop at the limit
 * (exactly, and without wrapping), forced claims count what is already
 * held, releases give it back, and two threads claiming at once never
 * pass the limit together.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "common/memory_budget.h"

static void
test_claims_stop_at_the_limit(void **state)
{
	struct memory_budget b;

	(void)state;
	memory_budget_init(&b, 100);
	assert_int_equal(memory_budget_claim(&b, 60), 0);
	assert_int_equal(memory_budget_claim(&b, 41), -1);
	assert_int_equal(memory_budget_used(&b), 60);
	assert_int_equal(memory_budget_claim(&b, 40), 0);	/* exactly full */
	assert_int_equal(memory_budget_claim(&b, 1), -1);
	memory_budget_release(&b, 100);
	assert_int_equal(memory_budget_used(&b), 0);
	assert_int_equal(memory_budget_claim(&b, 101), -1);
	assert_int_equal(memory_budget_claim(&b, SIZE_MAX), -1);
	assert_int_equal(memory_budget_used(&b), 0);
}

static void
test_forced_claims_count_and_block_others(void **state)
{
	struct memory_budget b;

	(void)state;
	memory_budget_init(&b, 100);
	memory_budget_force(&b, 150);		/* already held: counted */
	assert_int_equal(memory_budget_used(&b), 150);
	assert_int_equal(memory_budget_claim(&b, 1), -1);
	memory_budget_release(&b, 100);
	assert_int_equal(memory_budget_claim(&b, 50), 0);
	assert_int_equal(memory_budget_used(&b), 100);
}

static void
test_default_is_half_of_memory(void **state)
{
	(void)state;
	assert_true(memory_budget_default() >= (size_t)16 << 20);
	/* The gateway's default (--memory-limit) is a quarter of it. */
	assert_true(memory_budget_share(4) <= memory_budget_default());
	assert_true(memory_budget_share(4) >= memory_budget_default() / 2 -
	    4096);
	assert_true(memory_budget_share(0) >= memory_budget_default());
}

#define ROUNDS 200000

static void *
claim_and_release(void *arg)
{
	struct memory_budget *b = arg;
	size_t held = 0;
	int i;

	for (i = 0; i < ROUNDS; i++) {
		if (memory_budget_claim(b, 3) == 0)
			held += 3;
		assert_true(memory_budget_used(b) <= 10);
		if (held > 0 && i % 2 == 1) {
			memory_budget_release(b, held);
			held = 0;
		}
	}
	memory_budget_release(b, held);
	return NULL;
}

static void
test_concurrent_claims_never_pass_the_limit(void **state)
{
	struct memory_budget b;
	pthread_t t[4];
	int i;

	(void)state;
	memory_budget_init(&b, 10);
	for (i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, claim_and_release,
		    &b), 0);
	for (i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(memory_budget_used(&b), 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims_stop_at_the_limit),
		cmocka_unit_test(test_forced_claims_count_and_block_others),
		cmocka_unit_test(test_default_is_half_of_memory),
		cmocka_unit_test(test_concurrent_claims_never_pass_the_limit),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
