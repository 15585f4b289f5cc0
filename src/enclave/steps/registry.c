/*
 * registry.c - finding the steps that STEP_REGISTER put in the linker set.
 */
#include <stdio.h>
#include <string.h>

#include "enclave/steps/step.h"

/* The linker defines these around the section; weak: the set may be empty. */
extern const struct step *const __start_enclave_steps[] __attribute__((weak));
extern const struct step *const __stop_enclave_steps[] __attribute__((weak));

const struct step *
step_find(const char *name)
{
	const struct step *const *s;

	for (s = __start_enclave_steps; s < __stop_enclave_steps; s++)
		if (strcmp((*s)->name, name) == 0)
			return *s;
	return NULL;
}

const char *
step_names(void)
{
	static char names[256];
	const struct step *const *s;
	size_t used = 0;

	names[0] = '\0';
	for (s = __start_enclave_steps; s < __stop_enclave_steps; s++) {
		int n = snprintf(names + used, sizeof(names) - used, "%s%s",
		    used ? ", " : "", (*s)->name);

		if (n < 0 || (size_t)n >= sizeof(names) - used)
			break;
		used += (size_t)n;
	}
	return names;
}
