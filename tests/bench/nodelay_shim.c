/* LD_PRELOAD shim: sets TCP_NODELAY on every TCP socket the process connects,
 * so the daemon's alert latency can be measured with and without Nagle
 * without touching its sources (Paho C has no option for it).
 *   LD_PRELOAD=libbench_nodelay.so sealbridge -c FILE */
#include <dlfcn.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*connect_fn)(int, const struct sockaddr *, socklen_t);

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	static connect_fn real;
	if (!real) {
		void *p = dlsym(RTLD_NEXT, "connect");
		memcpy(&real, &p, sizeof(real));
	}
	int type = 0, one = 1;
	socklen_t tl = sizeof(type);
	if (addr && (addr->sa_family == AF_INET || addr->sa_family == AF_INET6) &&
	    getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type == SOCK_STREAM)
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return real(fd, addr, len);
}
