package signals

import (
	"reflect"
	"sync/atomic"
	"unsafe"
)

// A cell holds the current value of a signal or computed so that it can be
// read without a lock: in an atomic word for pointer-free types of at most
// eight bytes (ints, floats, bools and small arrays and structs of them),
// in an immutable box behind an atomic pointer otherwise. Writes happen
// under the engine's lock; the inline form allocates nothing per write.
type cell[T any] struct {
	word atomic.Uint64
	box  atomic.Pointer[T]
}

func (c *cell[T]) load(inline bool) T {
	if inline {
		w := c.word.Load()
		return *(*T)(unsafe.Pointer(&w))
	}
	return *c.box.Load()
}

func (c *cell[T]) store(v T, inline bool) {
	if inline {
		var w uint64
		*(*T)(unsafe.Pointer(&w)) = v
		c.word.Store(w)
		return
	}
	c.storeBox(v)
}

// storeBox is apart so that only the boxed form moves v to the heap.
//
//go:noinline
func (c *cell[T]) storeBox(v T) { c.box.Store(&v) }

// inlineable reports whether values of t fit a cell's word: at most eight
// bytes and no pointers, so that the garbage collector need not see them.
func inlineable(t reflect.Type) bool {
	if t.Size() > 8 {
		return false
	}
	switch t.Kind() {
	case reflect.Bool, reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr,
		reflect.Float32, reflect.Float64, reflect.Complex64:
		return true
	case reflect.Array:
		return t.Len() == 0 || inlineable(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if !inlineable(t.Field(i).Type) {
				return false
			}
		}
		return true
	}
	return false
}
