package io.nfqueue.internal;

/**
 * Run by {@link ShadedLoadTest} from a relocated copy of the library's classes: loads the shim
 * and reads a constant through a registered native, which works only if JNI_OnLoad registered
 * its natives on the relocated class.
 */
public final class ShadedLoadMain {
    private ShadedLoadMain() {
    }

    public static void main(String[] args) {
        NativeConstants k = NativeConstants.get();
        System.out.println("LOADED " + Natives.class.getName() + " recordSize=" + k.recordSize);
    }
}
