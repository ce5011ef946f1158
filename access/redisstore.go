package access

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"

	"github.com/redis/go-redis/v9"
)

// Redis keys of the store. The hash tag puts them in one Redis Cluster slot,
// so every change and every load is one MULTI transaction.
const (
	redisKeys         = "{corsbridge:access}:keys"          // hash: key name -> Key as JSON
	redisOriginBlocks = "{corsbridge:access}:blocks:origin" // set of patterns
	redisTargetBlocks = "{corsbridge:access}:blocks:target" // set of patterns
	redisSecrets      = "{corsbridge:access}:secrets"       // hash: secret name -> Secret as JSON (value sealed)
	redisVersion      = "{corsbridge:access}:version"       // INCR on every change
)

// RedisStore keeps keys and blocks in Redis, shared by every instance. Each
// change increments a version counter; instances poll it (one GET a second)
// and reload the whole, small, data set when it moves.
type RedisStore struct {
	rdb redis.UniversalClient
}

// NewRedisStore uses rdb, which the caller keeps and closes.
func NewRedisStore(rdb redis.UniversalClient) *RedisStore { return &RedisStore{rdb: rdb} }

func (s *RedisStore) Version(ctx context.Context) (string, error) {
	v, err := s.rdb.Get(ctx, redisVersion).Result()
	if errors.Is(err, redis.Nil) {
		return "0", nil
	}
	return v, err
}

func (s *RedisStore) Load(ctx context.Context) (Data, string, error) {
	var version *redis.StringCmd
	var keys *redis.MapStringStringCmd
	var origins, targets *redis.StringSliceCmd
	var secrets *redis.MapStringStringCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		version = p.Get(ctx, redisVersion)
		keys = p.HGetAll(ctx, redisKeys)
		secrets = p.HGetAll(ctx, redisSecrets)
		origins = p.SMembers(ctx, redisOriginBlocks)
		targets = p.SMembers(ctx, redisTargetBlocks)
		return nil
	})
	if err != nil && !errors.Is(err, redis.Nil) {
		return Data{}, "", err
	}
	v, err := version.Result()
	if errors.Is(err, redis.Nil) {
		v = "0"
	} else if err != nil {
		return Data{}, "", err
	}
	var d Data
	names := make([]string, 0, len(keys.Val()))
	for name := range keys.Val() {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		var k Key
		if err := json.Unmarshal([]byte(keys.Val()[name]), &k); err != nil || k.Name != name {
			// Kept, so the instance reports it as invalid instead of
			// silently dropping it.
			k = Key{Name: name}
		}
		d.Keys = append(d.Keys, k)
	}
	d.Blocks.Origins = sorted(origins.Val())
	d.Blocks.Targets = sorted(targets.Val())
	d.Secrets = loadSecrets(secrets.Val())
	return d, v, nil
}

func loadSecrets(m map[string]string) []Secret {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	sort.Strings(names)
	var out []Secret
	for _, name := range names {
		var s Secret
		if err := json.Unmarshal([]byte(m[name]), &s); err != nil || s.Name != name {
			s = Secret{Name: name} // reported as invalid, as a broken key is
		}
		out = append(out, s)
	}
	return out
}

func (s *RedisStore) SetSecret(ctx context.Context, sec Secret) error {
	data, err := json.Marshal(sec)
	if err != nil {
		return err
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, redisSecrets, sec.Name, data)
		p.Incr(ctx, redisVersion)
		return nil
	})
	return err
}

func (s *RedisStore) RemoveSecret(ctx context.Context, name string) error {
	return s.remove(ctx, redisSecrets, "secret", name)
}

func sorted(s []string) []string {
	sort.Strings(s)
	return s
}

func (s *RedisStore) AddKey(ctx context.Context, k Key) error {
	data, err := json.Marshal(k)
	if err != nil {
		return err
	}
	var added *redis.BoolCmd
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		added = p.HSetNX(ctx, redisKeys, k.Name, data)
		p.Incr(ctx, redisVersion)
		return nil
	})
	if err != nil {
		return err
	}
	if !added.Val() {
		return fmt.Errorf("key %q: %w", k.Name, ErrExists)
	}
	return nil
}

func (s *RedisStore) RevokeKey(ctx context.Context, name string) error {
	return s.remove(ctx, redisKeys, "key", name)
}

// remove deletes name, a what ("key", "secret"), from hash and bumps the
// version, in one transaction; ErrNotFound when hash did not hold it.
func (s *RedisStore) remove(ctx context.Context, hash, what, name string) error {
	var n *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.HDel(ctx, hash, name)
		p.Incr(ctx, redisVersion)
		return nil
	})
	if err != nil {
		return err
	}
	if n.Val() == 0 {
		return fmt.Errorf("%s %q: %w", what, name, ErrNotFound)
	}
	return nil
}

func blockSet(k Kind) string {
	if k == KindOrigin {
		return redisOriginBlocks
	}
	return redisTargetBlocks
}

func (s *RedisStore) AddBlock(ctx context.Context, kind Kind, pattern string) error {
	var n *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.SAdd(ctx, blockSet(kind), pattern)
		p.Incr(ctx, redisVersion)
		return nil
	})
	if err != nil {
		return err
	}
	if n.Val() == 0 {
		return fmt.Errorf("%s block %q: %w", kind, pattern, ErrExists)
	}
	return nil
}

func (s *RedisStore) RemoveBlock(ctx context.Context, kind Kind, pattern string) error {
	var n *redis.IntCmd
	_, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		n = p.SRem(ctx, blockSet(kind), pattern)
		p.Incr(ctx, redisVersion)
		return nil
	})
	if err != nil {
		return err
	}
	if n.Val() == 0 {
		return fmt.Errorf("%s block %q: %w", kind, pattern, ErrNotFound)
	}
	return nil
}
