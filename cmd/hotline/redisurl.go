package main

import (
	"fmt"
	"net/url"
	"strings"

	"github.com/redis/go-redis/v9"

	"hotline/configs"
)

// newRedisClient connects to the Redis that redis.url names. Three forms
// (go-redis's own URL syntax; extra nodes with repeated addr=):
//
//	redis://[:password@]host:port/db              one server (rediss:// for TLS)
//	redis+sentinel://[:password@]sentinel:26379/db?master_name=NAME&addr=sentinel2:26379
//	                                              the master Sentinel names, followed across failovers
//	                                              (also redis://…?master_name=NAME, as go-redis reads it)
//	redis+cluster://[:password@]node:6379?addr=node2:6379&addr=node3:6379
//	                                              Redis Cluster
//
// Sentinels and cluster nodes may also be listed comma-separated in the
// host part (redis+cluster://node:6379,node2:6379,node3:6379), as other
// clients write them.
//
// On Redis Cluster the key prefix must carry a hash tag (e.g. "{hotline}:",
// enforced by configs) because booking, queue and case scripts touch
// several keys: every key then lives on one slot, so a cluster gives
// replication and failover, not sharding.
func newRedisClient(c configs.RedisConfig) (redis.UniversalClient, error) {
	u, err := url.Parse(c.URL)
	if err != nil {
		return nil, err
	}
	base, mode, _ := strings.Cut(u.Scheme, "+")
	if mode == "" && u.Query().Has("master_name") {
		mode = "sentinel"
	}
	u.Scheme = base
	if mode != "" {
		splitHosts(u)
	}
	switch mode {
	case "":
		opt, err := redis.ParseURL(c.URL)
		if err != nil {
			return nil, err
		}
		opt.ContextTimeoutEnabled = true
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = c.DialTimeout, c.OpTimeout, c.OpTimeout
		failFast(&opt.MaxRetries, &opt.DialerRetries)
		return redis.NewClient(opt), nil
	case "sentinel":
		opt, err := redis.ParseFailoverURL(u.String())
		if err != nil {
			return nil, err
		}
		if opt.MasterName == "" {
			return nil, fmt.Errorf("%s://: master_name=NAME is required", u.Scheme+"+sentinel")
		}
		opt.ContextTimeoutEnabled = true
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = c.DialTimeout, c.OpTimeout, c.OpTimeout
		failFast(&opt.MaxRetries, &opt.DialerRetries)
		return redis.NewFailoverClient(opt), nil
	case "cluster":
		opt, err := redis.ParseClusterURL(u.String())
		if err != nil {
			return nil, err
		}
		opt.ContextTimeoutEnabled = true
		opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = c.DialTimeout, c.OpTimeout, c.OpTimeout
		failFast(&opt.MaxRetries, &opt.DialerRetries)
		return redis.NewClusterClient(opt), nil
	}
	return nil, fmt.Errorf("unknown scheme %q", u.Scheme+"+"+mode)
}

// splitHosts turns a comma-separated host list into the first host and
// addr= parameters. go-redis takes the host part as one address, so
// "n1:6379,n2:6379" would otherwise fail at the first dial with a DNS
// error, far from the URL that caused it.
func splitHosts(u *url.URL) {
	hosts := strings.Split(u.Host, ",")
	if len(hosts) < 2 {
		return
	}
	q := u.Query()
	for _, h := range hosts[1:] {
		if h != "" {
			q.Add("addr", h)
		}
	}
	u.Host, u.RawQuery = hosts[0], q.Encode()
}

// failFast sets one retry per command and one re-dial, unless the URL set
// them (max_retries=, dialer_retries=): a caller waits while a command
// retries, and go-redis's defaults (3 retries of 5 dials each) turn a
// Redis outage into seconds of silence per turn. One retry still covers
// the usual case, a pooled connection the server closed on restart.
func failFast(maxRetries, dialerRetries *int) {
	if *maxRetries == 0 {
		*maxRetries = 1
	}
	if *dialerRetries == 0 {
		*dialerRetries = 1
	}
}
