/*
 * test_eif_image.c - host/eif/eif_write and verify/eif (the reader and the
 * PCRs): a written image reads back with its sections in order; the CRC is
 * zlib's; the PCRs follow the spec, the check value included (PCR2 of an
 * image with one ramdisk, computed here independently with OpenSSL); and
 * every malformed layout is refused with a reason naming it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "common/hex.h"
#include "host/eif/eif_write.h"
#include "verify/eif.h"

static struct buf
build(size_t nramdisks)
{
	struct eif_parts p = { 0 };
	struct buf out = BUF_INIT;
	struct reason why;

	p.kernel = (struct slice){ (const uint8_t *)"KERNEL", 6 };
	p.cmdline = (struct slice){ (const uint8_t *)"console=ttyS0", 13 };
	p.metadata = (struct slice){ (const uint8_t *)"{}", 2 };
	p.ramdisks[0] = (struct slice){ (const uint8_t *)"RD0", 3 };
	p.ramdisks[1] = (struct slice){ (const uint8_t *)"RD1-app", 7 };
	p.nramdisks = nramdisks;
	assert_int_equal(eif_write(&p, &out, &why), 0);
	return out;
}

/* SHA384(0^48 || SHA384(data)), with OpenSSL's one-shot call only. */
static void
extend(const void *data, size_t n, uint8_t out[48])
{
	uint8_t in[96] = { 0 };
	unsigned int len;

	assert_int_equal(EVP_Digest(data, n, in + 48, &len, EVP_sha384(), NULL), 1);
	assert_int_equal(EVP_Digest(in, 96, out, &len, EVP_sha384(), NULL), 1);
}

/* Set the CRC again after a test changed bytes (so only its change counts). */
static void
fix_crc(struct buf *b)
{
	uint32_t crc = eif_crc32(0, b->data, EIF_CRC_OFFSET);

	crc = eif_crc32(crc, b->data + EIF_HEADER_LEN, b->len - EIF_HEADER_LEN);
	store_u32be(b->data + EIF_CRC_OFFSET, crc);
}

static void
expect_refused(const struct buf *b, const char *words)
{
	struct eif_image img;
	struct reason why = { "" };

	assert_int_equal(eif_parse(b->data, b->len, &img, &why), -1);
	if (strstr(why.text, words) == NULL)
		fail_msg("reason '%s' does not say '%s'", why.text, words);
}

static void
test_crc_is_zlibs(void **state)
{
	(void)state;
	/* The CRC-32/ISO-HDLC check value of "123456789". */
	assert_int_equal(eif_crc32(0, (const uint8_t *)"123456789", 9), 0xCBF43926);
	assert_int_equal(eif_crc32(eif_crc32(0, (const uint8_t *)"1234", 4),
	    (const uint8_t *)"56789", 5), 0xCBF43926);
}

static void
test_round_trip_and_pcrs(void **state)
{
	struct buf b = build(2);
	struct eif_image img;
	struct reason why = { "" };
	uint8_t pcr[3][48], want[48];

	(void)state;
	assert_int_equal(eif_parse(b.data, b.len, &img, &why), 0);
	assert_int_equal(img.version, 4);
	assert_int_equal(img.nsections, 5);
	assert_int_equal(img.nramdisks, 2);
	assert_int_equal(img.sections[0].offset, EIF_HEADER_LEN);
	assert_memory_equal(img.kernel->data, "KERNEL", 6);
	assert_memory_equal(img.sections[4].data, "RD1-app", 7);
	assert_int_equal(eif_pcrs(&img, pcr[0], pcr[1], pcr[2]), 0);
	extend("KERNELconsole=ttyS0RD0RD1-app", 29, want);
	assert_memory_equal(pcr[0], want, 48);
	extend("KERNELconsole=ttyS0RD0", 22, want);
	assert_memory_equal(pcr[1], want, 48);
	extend("RD1-app", 7, want);
	assert_memory_equal(pcr[2], want, 48);
	buf_free(&b, 0);
}

/* docs: PCR2 of an EIF with one ramdisk is the extend of SHA384(""). */
static void
test_pcr2_check_value(void **state)
{
	struct buf b = build(1);
	struct eif_image img;
	struct reason why;
	uint8_t pcr[3][48], want[48];
	char hex[97];

	(void)state;
	assert_int_equal(eif_parse(b.data, b.len, &img, &why), 0);
	assert_int_equal(eif_pcrs(&img, pcr[0], pcr[1], pcr[2]), 0);
	extend("", 0, want);
	assert_memory_equal(pcr[2], want, 48);
	hex_encode(hex, pcr[2], 48);
	hex[96] = '\0';
	assert_memory_equal(hex, "21b9efbc", 8);
	assert_string_equal(hex + 88, "64fc500a");
	buf_free(&b, 0);
}

static void
test_malformed_refused(void **state)
{
	struct buf b = build(2);
	struct buf c = BUF_INIT;
	uint8_t save[12];

	(void)state;
	/* truncated */
	expect_refused(&(struct buf){ b.data, 100, 0, 0 }, "truncated");
	expect_refused(&(struct buf){ b.data, b.len - 1, 0, 0 }, "past the end");
	/* bad magic */
	b.data[0] = 'x';
	expect_refused(&b, "bad magic");
	b.data[0] = '.';
	/* bad CRC: one byte of a ramdisk changed, the CRC not */
	b.data[b.len - 1] ^= 1;
	expect_refused(&b, "bad CRC");
	b.data[b.len - 1] ^= 1;
	/* too many sections */
	b.data[26] = 0; b.data[27] = 33;
	expect_refused(&b, "too many sections");
	b.data[27] = 5;
	/* wrong order: kernel and cmdline swapped in their section headers */
	memcpy(save, b.data + EIF_HEADER_LEN, 2);
	b.data[EIF_HEADER_LEN + 1] = EIF_SECTION_CMDLINE;
	fix_crc(&b);
	expect_refused(&b, "expected kernel");
	memcpy(b.data + EIF_HEADER_LEN, save, 2);
	/* overlapping: section 1's offset moved back into section 0 */
	b.data[28 + 8 + 7] -= 4;
	fix_crc(&b);
	expect_refused(&b, "overlaps");
	b.data[28 + 8 + 7] += 4;
	fix_crc(&b);
	/* section past the end: the last ramdisk's size grown in both tables */
	b.data[284 + 8 * 4 + 7] += 1;
	{
		size_t off = b.len - 7 - EIF_SECTION_HDR_LEN;
		b.data[off + 11] += 1;
	}
	fix_crc(&b);
	expect_refused(&b, "past the end");
	buf_free(&b, 0);
	/* stray bytes after the last section */
	b = build(2);
	assert_int_equal(buf_append(&c, b.data, b.len, 1 << 20), 0);
	assert_int_equal(buf_append(&c, "junk", 4, 1 << 20), 0);
	fix_crc(&c);
	expect_refused(&c, "after the last section");
	buf_free(&c, 0);
	buf_free(&b, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_crc_is_zlibs),
		cmocka_unit_test(test_round_trip_and_pcrs),
		cmocka_unit_test(test_pcr2_check_value),
		cmocka_unit_test(test_malformed_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
