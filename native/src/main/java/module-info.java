/**
 * The JNI shim, {@code META-INF/native/linux-<arch>/libnfqueue_jni.so}, for each architecture
 * built; no Java package. A module of its own name because the one a tool would derive from the
 * jar's name, {@code nfqueue.native}, is not a legal module name ({@code native} is a keyword),
 * and because {@code io.nfqueue} requires it: on the module path the library then resolves
 * without {@code --add-modules}. The files are outside any package, so the module system does not
 * encapsulate them and core's loader reads them as class-loader resources.
 */
module io.nfqueue.natives {
}
