package federation

import "context"

// ReloadFollowersForTest runs the periodic followers reload now.
func ReloadFollowersForTest(ctx context.Context, s *Server) error { return s.followers.reload(ctx) }

// ReloadFollowingForTest runs the periodic following reload now.
func ReloadFollowingForTest(ctx context.Context, s *Server) error { return s.following.reload(ctx) }
