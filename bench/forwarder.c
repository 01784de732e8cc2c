/*
 * The least a proxy can add: a forwarder that understands nothing. It opens
 * the device at $FWD_DEVICE (raw mode), accepts one client on the abstract
 * Unix socket $FWD_SOCKET, and copies bytes both ways with poll(), read()
 * and write(). bench/proxy-compare.sh (TestProxyCompare) builds it and
 * measures the latency it adds next to gombim's and libmbim's proxies.
 */
#include <fcntl.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

static int copy(int from, int to, char *buf, size_t size)
{
	ssize_t n = read(from, buf, size);
	if (n <= 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, n - off);
		if (w < 0)
			return -1;
		off += w;
	}
	return 0;
}

int main(void)
{
	const char *dev = getenv("FWD_DEVICE"), *name = getenv("FWD_SOCKET");
	if (!dev || !name || strlen(name) + 1 > sizeof(((struct sockaddr_un *)0)->sun_path)) {
		fprintf(stderr, "forwarder: set FWD_DEVICE and FWD_SOCKET\n");
		return 2;
	}
	int d = open(dev, O_RDWR | O_NOCTTY);
	if (d < 0) {
		perror(dev);
		return 1;
	}
	struct termios tio;
	if (tcgetattr(d, &tio) == 0) {
		cfmakeraw(&tio);
		tcsetattr(d, TCSANOW, &tio);
	}
	int s = socket(AF_UNIX, SOCK_STREAM, 0);
	struct sockaddr_un a = {.sun_family = AF_UNIX};
	size_t len = strlen(name);
	memcpy(a.sun_path + 1, name, len); /* abstract: leading NUL */
	if (bind(s, (struct sockaddr *)&a, offsetof(struct sockaddr_un, sun_path) + 1 + len) < 0 || listen(s, 1) < 0) {
		perror("bind");
		return 1;
	}
	int c = accept(s, NULL, NULL);
	if (c < 0) {
		perror("accept");
		return 1;
	}
	static char buf[65536];
	struct pollfd p[2] = {{.fd = c, .events = POLLIN}, {.fd = d, .events = POLLIN}};
	for (;;) {
		if (poll(p, 2, -1) < 0)
			return 1;
		if (p[0].revents && copy(c, d, buf, sizeof buf) < 0)
			return 0;
		if (p[1].revents && copy(d, c, buf, sizeof buf) < 0)
			return 0;
	}
}
