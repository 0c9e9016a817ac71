/* sealbridge: options, signals and the process; the work is in service.c. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "log.h"
#include "service.h"

static volatile sig_atomic_t stop_flag, reload_flag;
static struct service *running;

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		reload_flag = 1;
	else
		stop_flag = 1;
	if (running)
		service_wake(running);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: sealbridge [-t] -c FILE\n"
		   "  -c, --config FILE  settings file (INI)\n"
		   "  -t, --test         check the settings file and exit (0 when it is valid)\n"
		   "  -h, --help         this text\n"
		   "  -V, --version      print the version\n"
		   "Signals: TERM/INT stop cleanly, HUP reloads [timing], [escalation], [model.*] and log.level and reopens the log.\n");
}

static int install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) < 0 || sigaction(SIGINT, &sa, NULL) < 0 || sigaction(SIGHUP, &sa, NULL) < 0)
		return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"config", required_argument, NULL, 'c'}, {"test", no_argument, NULL, 't'},
		{"help", no_argument, NULL, 'h'},         {"version", no_argument, NULL, 'V'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	int check_only = 0, o;
	while ((o = getopt_long(argc, argv, "c:thV", opts, NULL)) != -1) {
		switch (o) {
		case 'c':
			path = optarg;
			break;
		case 't':
			check_only = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("sealbridge %s\n", SB_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (!path || optind != argc) {
		usage(stderr);
		return 2;
	}
	struct config cfg;
	char err[CONFIG_ERR_MAX];
	config_defaults(&cfg);
	if (config_load(path, &cfg, err) < 0) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	if (check_only) {
		printf("%s: ok\n", path);
		return 0;
	}
	enum log_level lvl = LOG_LEVEL_INFO;
	log_level_parse(cfg.log.level, &lvl);
	if (log_open(cfg.log.file, lvl) < 0) {
		fprintf(stderr, "sealbridge: cannot open log file %s\n", cfg.log.file);
		return 1;
	}
	if (install_signals() < 0) {
		log_error("sigaction: %m");
		return 1;
	}
	log_info("sealbridge %s starting with %s", SB_VERSION, path);
	struct service *s;
	if (service_new(&cfg, &s) < 0) {
		log_close();
		return 1;
	}
	running = s;
	int rc = service_run(s, path, &stop_flag, &reload_flag);
	running = NULL;
	service_free(s);
	log_info("sealbridge stopped");
	log_close();
	/* 3: stopped, but saves were lost to a store fault (logged); systemd restarts on it. */
	exit(rc == 0 ? 0 : rc == SERVICE_EXIT_LOST ? SERVICE_EXIT_LOST : 1);
}
