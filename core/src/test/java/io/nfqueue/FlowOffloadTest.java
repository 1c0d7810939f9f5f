package io.nfqueue;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class FlowOffloadTest {
    @Test
    void theMaskGivesTheAcceptAndDropValuesFromItsTwoLowestBits() {
        FlowOffload f = FlowOffload.mask(0x0030_0000);
        assertEquals(0x0010_0000, f.acceptValue());
        assertEquals(0x0020_0000, f.dropValue());
        assertEquals(FlowOffload.Mode.ACCEPT, f.mode());
        FlowOffload scattered = FlowOffload.mask(0x8000_0001);
        assertEquals(0x1, scattered.acceptValue());
        assertEquals(0x8000_0000, scattered.dropValue());
    }

    @Test
    void aMaskNeedsTwoBitsAndValuesStayInsideItNonZeroAndApart() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> FlowOffload.mask(0x10)).getMessage()
                .contains("at least two bits"));
        assertThrows(IllegalArgumentException.class, () -> FlowOffload.mask(0));
        FlowOffload f = FlowOffload.mask(0xf0);
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.acceptValue(0x100)).getMessage()
                .contains("outside the mask"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.dropValue(0)).getMessage().contains("undecided"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> f.dropValue(0x10)).getMessage().contains("differ"));
        FlowOffload custom = f.acceptValue(0x30).dropValue(0xc0).mode(FlowOffload.Mode.REPEAT);
        assertEquals(0x30, custom.acceptValue());
        assertEquals(0xc0, custom.dropValue());
        assertEquals(FlowOffload.Mode.REPEAT, custom.mode());
        assertEquals(FlowOffload.Mode.ACCEPT, f.mode(), "withers leave the original alone");
    }

    @Test
    void otherProgramsBitsSurviveTheFlowValue() {
        FlowOffload f = FlowOffload.mask(0x0030_0000);
        assertEquals(0x0010_0005, f.apply(0x0020_0005, f.acceptValue()));
        assertEquals(0xffef_ffff, f.apply(0xffff_ffff, f.dropValue()));
    }
}
