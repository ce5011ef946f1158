package main

import (
	"fmt"
	"os"
	"os/user"
	"path/filepath"
)

// writeNginxConf writes a minimal CORS-adding reverse proxy: upstream
// keep-alive, one access-log line per request to a file, no disk buffering
// of large bodies, as many workers as the proxy has CPUs. With https it
// proxies to the upstream's TLS listener, verifying it against the run's
// CA, reusing TLS sessions and keeping connections alive (nginx speaks
// HTTP/1.1 to upstreams, never HTTP/2). For cache hits it adds a
// proxy_cache zone with a lock, so concurrent misses wait for one fetch as
// corsbridge's coalescing does.
func (l *lab) writeNginxConf(target string, port int, scenario string) (string, error) {
	userLine := ""
	if os.Geteuid() == 0 {
		// As root, workers would switch to nobody; run them as we are.
		if u, err := user.Current(); err == nil {
			if g, err := user.LookupGroupId(u.Gid); err == nil {
				userLine = fmt.Sprintf("user %s %s;", u.Username, g.Name)
			}
		}
	}
	scheme, server, tlsLines, cachePath, cacheLines := "http", l.upstream, "", "", ""
	if scenario == cacheSuffix {
		cachePath = fmt.Sprintf("\n    proxy_cache_path %s/nginx-cache-%d levels=1:2 keys_zone=bench:10m max_size=64m use_temp_path=off;", l.dir, port)
		cacheLines = `
            proxy_cache bench;
            proxy_cache_lock on;
            add_header X-Cache-Status $upstream_cache_status always;`
	}
	if scenario == httpsSuffix {
		scheme, server = "https", l.upstreamTLS
		tlsLines = fmt.Sprintf(`
            proxy_ssl_protocols TLSv1.3;
            proxy_ssl_verify on;
            proxy_ssl_trusted_certificate %s;
            proxy_ssl_name %s;
            proxy_ssl_server_name on;
            proxy_ssl_session_reuse on;`, l.ca.CAFile, upstreamTLSName)
	}
	workers := cpuCount(l.cfg.Pin.Proxy)
	conf := fmt.Sprintf(`%s
daemon off;
worker_processes %d;
pid %[3]s/nginx-%[4]d.pid;
events { worker_connections 4096; }
http {
    access_log %[3]s/%[5]s-access.log;
    client_body_temp_path %[3]s/tmp-body;
    proxy_temp_path %[3]s/tmp-proxy;
    fastcgi_temp_path %[3]s/tmp-fastcgi;
    uwsgi_temp_path %[3]s/tmp-uwsgi;
    scgi_temp_path %[3]s/tmp-scgi;%[9]s
    upstream backend {
        server %[6]s;
        keepalive 64;
    }
    server {
        listen 127.0.0.1:%[4]d;
        location / {
            proxy_pass %[7]s://backend;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_max_temp_file_size 0;%[8]s%[10]s
            add_header Access-Control-Allow-Origin * always;
        }
    }
}
`, userLine, workers, l.dir, port, target, server, scheme, tlsLines, cachePath, cacheLines)
	path := filepath.Join(l.dir, fmt.Sprintf("nginx-%d.conf", port))
	return path, os.WriteFile(path, []byte(conf), 0o644)
}
