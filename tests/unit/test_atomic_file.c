/* test_atomic_file.c - a regular file is replaced whole and leaves no temporary file behind; a device or FIFO at the path is written to, never replaced. */
#include "../../io/atomic_file.h"

#include <CUnit/Basic.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static char dir[64];

static void make_dir(void)
{
	snprintf(dir, sizeof dir, "/tmp/edonu-atomic.XXXXXX");
	CU_ASSERT_PTR_NOT_NULL_FATAL(mkdtemp(dir));
}

/* A new file and an existing one both end up holding exactly the data, with no temporary file left. */
static void test_regular(void)
{
	make_dir();
	char path[128], buf[64];
	snprintf(path, sizeof path, "%s/summary.json", dir);
	const char *what;
	CU_ASSERT_EQUAL(atomic_file_write(path, "first", 5, &what), 0);
	CU_ASSERT_EQUAL(atomic_file_write(path, "second\n", 7, &what), 0);
	FILE *f = fopen(path, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	CU_ASSERT_EQUAL(n, 7);
	CU_ASSERT_EQUAL(memcmp(buf, "second\n", 7), 0);
	char tmp[160];
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	CU_ASSERT_NOT_EQUAL(access(tmp, F_OK), 0);
	unlink(path);
	/* A directory that does not exist: the step is named. */
	snprintf(path, sizeof path, "%s/no/such/file", dir);
	CU_ASSERT_EQUAL(atomic_file_write(path, "x", 1, &what), -1);
	CU_ASSERT_STRING_EQUAL(what, "create");
	rmdir(dir);
}

/* A character device (a copy of /dev/null, where the test may make one) stays a device. */
static void test_device(void)
{
	make_dir();
	char path[128];
	snprintf(path, sizeof path, "%s/null", dir);
	if (mknod(path, S_IFCHR | 0666, makedev(1, 3)) != 0) {
		rmdir(dir);
		return; /* not allowed here: nothing to check */
	}
	const char *what;
	CU_ASSERT_EQUAL(atomic_file_write(path, "{}\n", 3, &what), 0);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_TRUE(S_ISCHR(st.st_mode));
	unlink(path);
	rmdir(dir);
}

/* A FIFO with a reader gets the data through it, and stays a FIFO. */
static void test_fifo(void)
{
	make_dir();
	char path[128], buf[16];
	snprintf(path, sizeof path, "%s/fifo", dir);
	CU_ASSERT_EQUAL_FATAL(mkfifo(path, 0600), 0);
	int rfd = open(path, O_RDONLY | O_NONBLOCK);
	CU_ASSERT_FATAL(rfd >= 0);
	const char *what;
	CU_ASSERT_EQUAL(atomic_file_write(path, "abc", 3, &what), 0);
	CU_ASSERT_EQUAL(read(rfd, buf, sizeof buf), 3);
	close(rfd);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_TRUE(S_ISFIFO(st.st_mode));
	unlink(path);
	rmdir(dir);
}

/* The temporary name is never written through a link (nor into a file that
 * was there): one planted at PATH.tmpPID is replaced, what it points to is
 * untouched, and the finished file has the mode of a new file under the
 * umask (0644 less it: node_exporter reads the metrics textfile). */
static void test_tmp_no_links(void)
{
	make_dir();
	char path[128], tmp[160], victim[128], buf[64];
	snprintf(path, sizeof path, "%s/metrics.prom", dir);
	snprintf(tmp, sizeof tmp, "%s.tmp%ld", path, (long)getpid());
	snprintf(victim, sizeof victim, "%s/victim", dir);
	FILE *f = fopen(victim, "w");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	fputs("keep\n", f);
	fclose(f);
	CU_ASSERT_EQUAL_FATAL(symlink(victim, tmp), 0);
	mode_t old = umask(027);
	const char *what;
	CU_ASSERT_EQUAL(atomic_file_write(path, "data\n", 5, &what), 0);
	struct stat st;
	CU_ASSERT_EQUAL_FATAL(lstat(path, &st), 0);
	CU_ASSERT_TRUE(S_ISREG(st.st_mode));
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0640);
	CU_ASSERT_NOT_EQUAL(lstat(tmp, &st), 0);
	f = fopen(victim, "r");
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	size_t n = fread(buf, 1, sizeof buf, f);
	fclose(f);
	CU_ASSERT_EQUAL(n, 5);
	CU_ASSERT_EQUAL(memcmp(buf, "keep\n", 5), 0);
	umask(022);
	CU_ASSERT_EQUAL(atomic_file_write(path, "data\n", 5, &what), 0);
	CU_ASSERT_EQUAL_FATAL(stat(path, &st), 0);
	CU_ASSERT_EQUAL(st.st_mode & 0777, 0644);
	umask(old);
	unlink(path);
	unlink(victim);
	rmdir(dir);
}

int main(void)
{
	if (CU_initialize_registry() != CUE_SUCCESS)
		return 1;
	CU_pSuite s = CU_add_suite("atomic_file", NULL, NULL);
	CU_add_test(s, "regular file", test_regular);
	CU_add_test(s, "device", test_device);
	CU_add_test(s, "fifo", test_fifo);
	CU_add_test(s, "temporary name never through a link", test_tmp_no_links);
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	unsigned failed = CU_get_number_of_failures() + CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	return failed ? 1 : 0;
}
