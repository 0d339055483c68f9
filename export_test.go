package signals

// MapNodeCount returns how many per-key nodes m holds, for leak tests.
func MapNodeCount[K comparable, V any](m *Map[K, V]) int {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return len(m.nodes)
}

// SetMapMinSweep sets how many idle nodes maps made from now on keep
// without sweeping, and returns the previous setting.
func SetMapMinSweep(n int) int {
	prev := minSweep
	minSweep = n
	return prev
}
