package proxy

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/user"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gombim/gombim/transport"
)

// DefaultSocket is the abstract socket name libmbim's clients connect to.
const DefaultSocket = "mbim-proxy"

// Defaults for Config fields left zero.
const (
	DefaultRequestTimeout = 300 * time.Second // libmbim's proxy uses 300 s too
	DefaultClientQueue    = 1024
	DefaultMaxInFlight    = 32
	DefaultOpenTimeout    = 30 * time.Second
)

// Config configures a Server. The zero value serves "mbim-proxy" to root
// and to the proxy's own user, and closes a device as soon as its last
// client leaves.
type Config struct {
	// Socket is the name of the listening socket in the abstract
	// namespace (DefaultSocket if empty). A name starting with '/' is a
	// socket file instead.
	Socket string

	// AllowUIDs and AllowGIDs extend who may connect: root and the
	// proxy's own uid always may; so may these users, and processes whose
	// primary or supplementary groups include one of these groups.
	AllowUIDs []uint32
	AllowGIDs []uint32

	// EmptyTimeout is how long a device stays open after its last client
	// left: 0 closes it at once, a negative value never.
	EmptyTimeout time.Duration

	// RequestTimeout bounds how long a request waits for the device's
	// answer before it is forgotten and counted as a timeout
	// (DefaultRequestTimeout if zero). The client is not answered; it
	// times out on its own, as with libmbim's proxy.
	RequestTimeout time.Duration

	// ClientQueue is how many messages may wait to be written to one
	// client (DefaultClientQueue if zero). A client that lets its queue
	// fill up is disconnected, so that it never holds up the device
	// reader or the other clients.
	ClientQueue int

	// MaxInFlight is how many requests of one client may wait for the
	// device at the same time (DefaultMaxInFlight if zero). Beyond that
	// the proxy stops reading from that client until answers come back.
	MaxInFlight int

	// Logger receives the proxy's log; nil means slog.Default().
	Logger *slog.Logger

	// Open opens a device; nil means transport.OpenContext with default
	// options. Tests use it to count or fail opens.
	Open func(ctx context.Context, path string) (transport.Conn, error)
}

// Server is a running proxy.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ln     *net.UnixListener
	ctx    context.Context
	cancel context.CancelFunc
	ownUID uint32

	mu      sync.Mutex
	devices map[string]*device // by canonical path (a device may have several)
	clients map[uint64]*client
	closed  bool

	wg       sync.WaitGroup
	nextID   atomic.Uint64
	accepted atomic.Uint64
	refused  atomic.Uint64
	dropped  atomic.Uint64
}

// Listen creates a Server listening on cfg.Socket. Call Serve to accept
// clients and Close to stop.
func Listen(cfg Config) (*Server, error) {
	if cfg.Socket == "" {
		cfg.Socket = DefaultSocket
	}
	if cfg.RequestTimeout <= 0 {
		cfg.RequestTimeout = DefaultRequestTimeout
	}
	if cfg.ClientQueue <= 0 {
		cfg.ClientQueue = DefaultClientQueue
	}
	if cfg.MaxInFlight <= 0 {
		cfg.MaxInFlight = DefaultMaxInFlight
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Open == nil {
		cfg.Open = func(ctx context.Context, path string) (transport.Conn, error) {
			return transport.OpenContext(ctx, path, transport.Options{})
		}
	}
	ln, err := listen(cfg.Socket)
	if err != nil {
		return nil, fmt.Errorf("proxy: listen on %s: %w", socketDesc(cfg.Socket), err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg:     cfg,
		log:     cfg.Logger,
		ln:      ln,
		ctx:     ctx,
		cancel:  cancel,
		ownUID:  uint32(os.Geteuid()),
		devices: make(map[string]*device),
		clients: make(map[uint64]*client),
	}, nil
}

func socketDesc(name string) string {
	if strings.HasPrefix(name, "/") {
		return name
	}
	return "@" + strings.TrimPrefix(name, "@")
}

// Addr returns the listening address ("@mbim-proxy").
func (s *Server) Addr() string { return socketDesc(s.cfg.Socket) }

// Serve accepts clients until Close is called; it then returns nil.
func (s *Server) Serve() error {
	s.log.Info("proxy listening", "socket", s.Addr())
	for {
		conn, err := s.ln.AcceptUnix()
		if err != nil {
			if s.ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			s.log.Warn("accept failed", "err", err)
			select {
			case <-time.After(50 * time.Millisecond):
			case <-s.ctx.Done():
				return nil
			}
			continue
		}
		s.admit(conn)
	}
}

// Close stops accepting clients, disconnects every client, sends CLOSE to
// every open device and closes it, and waits for all goroutines to end.
func (s *Server) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	clients := make([]*client, 0, len(s.clients))
	for _, c := range s.clients {
		clients = append(clients, c)
	}
	var devices []*device
	for k, d := range s.devices {
		if !slices.Contains(devices, d) {
			devices = append(devices, d)
		}
		delete(s.devices, k)
	}
	s.mu.Unlock()

	s.cancel()
	err := s.ln.Close()
	for _, c := range clients {
		c.close("proxy shutting down", false)
	}
	for _, d := range devices {
		d.shutdown("proxy shutting down")
	}
	s.wg.Wait()
	return err
}

// admit checks the peer's credentials and starts serving it.
func (s *Server) admit(uc *net.UnixConn) {
	id := s.nextID.Add(1)
	conn, err := newClientConn(uc, id)
	if err != nil {
		s.log.Warn("client refused", "client", id, "err", err)
		s.refused.Add(1)
		uc.Close()
		return
	}
	cred, err := conn.peerCred()
	if err != nil {
		s.log.Warn("client refused: cannot read peer credentials", "client", id, "err", err)
		s.refused.Add(1)
		conn.close()
		return
	}
	comm := procComm(cred.PID)
	if why := s.checkAccess(cred); why != "" {
		s.log.Warn("client refused", "client", id, "pid", cred.PID, "uid", cred.UID, "gid", cred.GID, "comm", comm, "reason", why)
		s.refused.Add(1)
		conn.close()
		return
	}
	c := newClient(s, id, conn, cred, comm)
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		conn.close()
		return
	}
	s.clients[id] = c
	s.mu.Unlock()
	s.accepted.Add(1)
	s.log.Debug("client connected", "client", id, "pid", cred.PID, "uid", cred.UID, "comm", comm)
	c.start()
}

func (s *Server) removeClient(c *client) {
	s.mu.Lock()
	delete(s.clients, c.id)
	s.mu.Unlock()
}

// checkAccess returns "" if the peer may use the proxy, else why not.
func (s *Server) checkAccess(cred transport.Cred) string {
	if cred.UID == 0 || cred.UID == s.ownUID || slices.Contains(s.cfg.AllowUIDs, cred.UID) {
		return ""
	}
	if len(s.cfg.AllowGIDs) > 0 {
		for _, g := range peerGroups(cred) {
			if slices.Contains(s.cfg.AllowGIDs, g) {
				return ""
			}
		}
	}
	why := "uid " + strconv.FormatUint(uint64(cred.UID), 10) + " is neither root nor the proxy's user"
	if len(s.cfg.AllowUIDs) > 0 {
		why += " nor an allowed user"
	}
	if len(s.cfg.AllowGIDs) > 0 {
		why += ", and no group of it is allowed"
	}
	return why
}

// peerGroups returns the peer's primary group, the supplementary groups of
// the process (from /proc/PID/status) and, failing that, those of its user
// in the group database.
func peerGroups(cred transport.Cred) []uint32 {
	gids := []uint32{cred.GID}
	if b, err := os.ReadFile("/proc/" + strconv.Itoa(int(cred.PID)) + "/status"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "Groups:"); ok {
				for _, f := range strings.Fields(rest) {
					if g, err := strconv.ParseUint(f, 10, 32); err == nil {
						gids = append(gids, uint32(g))
					}
				}
				return gids
			}
		}
	}
	if u, err := user.LookupId(strconv.FormatUint(uint64(cred.UID), 10)); err == nil {
		if gs, err := u.GroupIds(); err == nil {
			for _, f := range gs {
				if g, err := strconv.ParseUint(f, 10, 32); err == nil {
					gids = append(gids, uint32(g))
				}
			}
		}
	}
	return gids
}

func procComm(pid int32) string {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(int(pid)) + "/comm")
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}

// LookupUser resolves a user name or numeric uid for Config.AllowUIDs.
func LookupUser(name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	u, err := user.Lookup(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(u.Uid, 10, 32)
	return uint32(n), err
}

// LookupGroup resolves a group name or numeric gid for Config.AllowGIDs.
func LookupGroup(name string) (uint32, error) {
	if n, err := strconv.ParseUint(name, 10, 32); err == nil {
		return uint32(n), nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return 0, err
	}
	n, err := strconv.ParseUint(g.Gid, 10, 32)
	return uint32(n), err
}

// canonicalPath returns the key under which a device path is shared, as
// libmbim does with realpath(3): symlinks resolved, so that clients using
// different links to one port share it. Socket names ("@name", "unix:...")
// are kept as they are.
func canonicalPath(p string) (string, error) {
	if p == "" {
		return "", errors.New("empty device path")
	}
	if strings.HasPrefix(p, "@") || strings.HasPrefix(p, "unix:") || strings.HasPrefix(p, "unix-abstract:") {
		return p, nil
	}
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	return filepath.EvalSymlinks(abs)
}

// aliasKey is the key under which a device is also known by the path its
// first client gave, so that a client using that path finds it even when
// the path now resolves elsewhere (a modem that came back as another node,
// a simulator's new pty behind the same link).
func aliasKey(given string) string {
	if abs, err := filepath.Abs(given); err == nil && !strings.HasPrefix(given, "@") && !strings.HasPrefix(given, "unix") {
		given = abs
	}
	return "path:" + given
}

// lookupDeviceLocked returns the device for canon (or for the path given),
// creating it (closed) if needed. Called with s.mu held.
func (s *Server) lookupDeviceLocked(canon, given string) *device {
	if d := s.devices[canon]; d != nil {
		return d
	}
	alias := aliasKey(given)
	if d := s.devices[alias]; d != nil {
		return d
	}
	d := newDevice(s, canon, given)
	d.keys = append(d.keys, alias)
	s.devices[canon] = d
	s.devices[alias] = d
	return d
}

// forgetDeviceLocked removes every key of d. Called with s.mu held.
func (s *Server) forgetDeviceLocked(d *device) {
	for k, v := range s.devices {
		if v == d {
			delete(s.devices, k)
		}
	}
}

// rekey records where d's path leads after a (re)open: clients naming the
// new real path share d, and the old one, which may now be another
// device, no longer leads to it.
func (s *Server) rekey(d *device) {
	canon, err := canonicalPath(d.openPath)
	if err != nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.removed || slices.Contains(d.keys, canon) {
		return
	}
	if other := s.devices[canon]; other != nil && other != d {
		s.log.Warn("device reopened at a path another session uses", "device", d.path, "path", canon)
		return
	}
	keys := d.keys[:0]
	for _, k := range d.keys {
		if strings.HasPrefix(k, "path:") {
			keys = append(keys, k)
		} else if s.devices[k] == d {
			delete(s.devices, k)
		}
	}
	d.keys = append(keys, canon)
	s.devices[canon] = d
	s.log.Info("device now at another path", "device", d.path, "path", canon)
}
