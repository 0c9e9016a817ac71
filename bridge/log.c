/* One write() per line, so lines from several threads (and processes sharing an
 * O_APPEND file) never interleave, and nothing sits in a stdio buffer when the
 * daemon dies. */
#include "log.h"

#include "clock.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINE_MAX 2048
#define LOG_PATH_MAX 4096

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int log_fd = STDERR_FILENO;
static char log_path[LOG_PATH_MAX]; /* "" = stderr */
static atomic_int min_level = LOG_LEVEL_INFO;

static const char *const level_names[] = {"debug", "info", "warning", "error"};

int log_level_parse(const char *s, enum log_level *out)
{
	if (!s || !out)
		return -1;
	for (int i = 0; i < (int)(sizeof level_names / sizeof level_names[0]); i++)
		if (strcmp(s, level_names[i]) == 0) {
			*out = (enum log_level)i;
			return 0;
		}
	return -1;
}

void log_set_level(enum log_level min)
{
	atomic_store(&min_level, (int)min);
}

static int open_file(const char *file)
{
	int fd;

	do
		fd = open(file, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	while (fd < 0 && errno == EINTR);
	return fd;
}

int log_open(const char *file, enum log_level min)
{
	int fd = STDERR_FILENO;

	if (file && file[0]) {
		if (strlen(file) >= sizeof log_path) {
			errno = ENAMETOOLONG;
			return -1;
		}
		fd = open_file(file);
		if (fd < 0)
			return -1;
	}
	pthread_mutex_lock(&lock);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = fd;
	snprintf(log_path, sizeof log_path, "%s", fd == STDERR_FILENO ? "" : file);
	pthread_mutex_unlock(&lock);
	log_set_level(min);
	return 0;
}

int log_reopen(void)
{
	char path[LOG_PATH_MAX];
	int fd, old;

	pthread_mutex_lock(&lock);
	memcpy(path, log_path, sizeof path);
	pthread_mutex_unlock(&lock);
	if (!path[0])
		return 0;
	/* Open the new file before closing the old one, so a failure keeps us logging somewhere. */
	fd = open_file(path);
	if (fd < 0) {
		int e = errno;
		log_error("cannot reopen log file %s: %s", path, strerror(e));
		errno = e;
		return -1;
	}
	pthread_mutex_lock(&lock);
	old = log_fd;
	log_fd = fd;
	pthread_mutex_unlock(&lock);
	if (old != STDERR_FILENO)
		close(old);
	return 0;
}

void log_close(void)
{
	pthread_mutex_lock(&lock);
	if (log_fd != STDERR_FILENO)
		close(log_fd);
	log_fd = STDERR_FILENO;
	log_path[0] = '\0';
	pthread_mutex_unlock(&lock);
}

static size_t stamp(char *buf, size_t n, enum log_level lvl)
{
	int64_t wall = clock_now().wall_ms;
	time_t secs = (time_t)(wall / 1000);
	struct tm tm;
	size_t len;
	int r;

	if (!gmtime_r(&secs, &tm))
		memset(&tm, 0, sizeof tm);
	len = strftime(buf, n, "%Y-%m-%dT%H:%M:%S", &tm);
	r = snprintf(buf + len, n - len, ".%03dZ sealbridge[%ld] %s: ", (int)(wall % 1000),
		     (long)getpid(), level_names[lvl]);
	if (r < 0)
		return len;
	len += (size_t)r;
	return len < n ? len : n - 1;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	int saved = errno;
	char line[LOG_LINE_MAX];
	size_t len, head, off;
	va_list ap;

	if ((int)lvl < LOG_LEVEL_DEBUG || (int)lvl > LOG_LEVEL_ERROR)
		lvl = LOG_LEVEL_ERROR;
	if ((int)lvl < atomic_load(&min_level)) {
		errno = saved;
		return;
	}
	head = stamp(line, sizeof line - 1, lvl);
	va_start(ap, fmt);
	errno = saved; /* for %m */
	int r = vsnprintf(line + head, sizeof line - 1 - head, fmt, ap);
	va_end(ap);
	len = head + (r < 0 ? 0 : (size_t)r);
	if (len > sizeof line - 2) {
		len = sizeof line - 2;
		memcpy(line + len - 3, "...", 3);
	}
	while (len > head && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		len--;
	/* Messages carry topics and ids from the network: one message stays one line. */
	for (size_t i = head; i < len; i++)
		if (((unsigned char)line[i] < 0x20 && line[i] != '\t') || line[i] == 0x7f)
			line[i] = '?';
	line[len++] = '\n';

	pthread_mutex_lock(&lock);
	for (off = 0; off < len;) {
		ssize_t w = write(log_fd, line + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			break; /* nowhere left to report it */
		off += (size_t)w;
	}
	pthread_mutex_unlock(&lock);
	errno = saved;
}
