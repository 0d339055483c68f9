package signals

import "reflect"

// defaultEqual returns == for T when values of T can be compared without
// panicking, a recovering == when T holds interfaces (whose dynamic values
// may not be comparable), and nil, meaning "never equal", otherwise.
func defaultEqual[T any]() func(a, b T) bool {
	if eq, ok := basicEqual[T](); ok {
		return eq
	}
	rt := reflect.TypeFor[T]()
	switch {
	case !rt.Comparable():
		return nil
	case hasInterface(rt):
		return safeEqual[T]
	}
	return plainEqual[T]
}

func plainEqual[T any](a, b T) bool { return any(a) == any(b) }

func safeEqual[T any](a, b T) (eq bool) {
	defer func() {
		if recover() != nil {
			eq = false // dynamic type not comparable: never equal
		}
	}()
	return any(a) == any(b)
}

// hasInterface reports whether comparing values of t can reach an interface
// value, where == may panic at run time.
func hasInterface(t reflect.Type) bool {
	switch t.Kind() {
	case reflect.Interface:
		return true
	case reflect.Array:
		return hasInterface(t.Elem())
	case reflect.Struct:
		for i := range t.NumField() {
			if hasInterface(t.Field(i).Type) {
				return true
			}
		}
	}
	return false
}

// basicEqual returns a direct == for the common basic types: comparing
// through interfaces costs several times more on every write and recompute.
func basicEqual[T any]() (func(a, b T) bool, bool) {
	var f any
	switch any(*new(T)).(type) {
	case int:
		f = eqInt
	case int64:
		f = eqInt64
	case int32:
		f = eqInt32
	case uint64:
		f = eqUint64
	case uint:
		f = eqUint
	case float64:
		f = eqFloat64
	case string:
		f = eqString
	case bool:
		f = eqBool
	case int8, int16, uint8, uint16, uint32, uintptr, float32, complex64, complex128:
		return plainEqual[T], true
	default:
		return nil, false
	}
	return f.(func(a, b T) bool), true
}

// Top-level functions, not literals: a literal inside a generic function
// would be allocated on every call.
func eqInt(a, b int) bool         { return a == b }
func eqInt64(a, b int64) bool     { return a == b }
func eqInt32(a, b int32) bool     { return a == b }
func eqUint64(a, b uint64) bool   { return a == b }
func eqUint(a, b uint) bool       { return a == b }
func eqFloat64(a, b float64) bool { return a == b }
func eqString(a, b string) bool   { return a == b }
func eqBool(a, b bool) bool       { return a == b }
