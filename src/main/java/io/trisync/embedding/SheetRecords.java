package io.trisync.embedding;

import io.trisync.embedding.OfficeLimits.Limit;
import org.apache.poi.hssf.eventusermodel.AbortableHSSFListener;
import org.apache.poi.hssf.eventusermodel.HSSFUserException;
import org.apache.poi.hssf.record.BOFRecord;
import org.apache.poi.hssf.record.BoolErrRecord;
import org.apache.poi.hssf.record.FormulaRecord;
import org.apache.poi.hssf.record.LabelRecord;
import org.apache.poi.hssf.record.LabelSSTRecord;
import org.apache.poi.hssf.record.NumberRecord;
import org.apache.poi.hssf.record.Record;
import org.apache.poi.hssf.record.SSTRecord;
import org.apache.poi.hssf.record.StringRecord;
import org.apache.poi.ss.usermodel.CellType;
import org.apache.poi.ss.util.NumberToTextConverter;

/**
 * The text of an Excel 97-2003 workbook's cells, from the records HSSF's event reader hands over one
 * at a time: each worksheet's cells in their order, apart by tabs, a row a line, worksheets apart by
 * a blank line; strings (shared and inline), numbers as Excel shows them in the General format
 * (unformatted, as an XLSX stores them), booleans, and a formula's cached result. Every character is
 * counted against the document's {@link TextBudget} as it is added, so a shared string that a
 * thousand cells repeat stops the reading at the limit; what is held is the shared strings and the
 * text. Charts, comments and headers are not read.
 */
final class SheetRecords extends AbortableHSSFListener {
    private final TextBudget budget;
    private final StringBuilder text = new StringBuilder();
    private SSTRecord shared;
    /** The row of the last cell given text, -1 at a worksheet's start. */
    private int row = -1;
    /** The row of a formula whose cached string result is the next {@link StringRecord}; -1 for none. */
    private int formulaRow = -1;

    SheetRecords(TextBudget budget) {
        this.budget = budget;
    }

    /** The text read so far, its trailing line breaks left out. */
    String text() {
        return text.toString().strip();
    }

    @Override
    public short abortableProcessRecord(Record record) throws HSSFUserException {
        try {
            if (record instanceof BOFRecord bof && bof.getType() == BOFRecord.TYPE_WORKSHEET) {
                sheet();
            } else if (record instanceof SSTRecord strings) {
                shared = strings;
            } else if (record instanceof LabelSSTRecord label) {
                cell(label.getRow(), sharedString(label.getSSTIndex()));
            } else if (record instanceof LabelRecord label) {
                cell(label.getRow(), label.getValue());
            } else if (record instanceof NumberRecord number) {
                cell(number.getRow(), NumberToTextConverter.toText(number.getValue()));
            } else if (record instanceof BoolErrRecord bool && bool.isBoolean()) {
                cell(bool.getRow(), bool.getBooleanValue() ? "TRUE" : "FALSE");
            } else if (record instanceof FormulaRecord formula) {
                formula(formula);
            } else if (record instanceof StringRecord string && formulaRow >= 0) {
                cell(formulaRow, string.getString());
                formulaRow = -1;
            }
        } catch (Limit e) {
            throw new HSSFUserException(e.getMessage());
        }
        return 0;
    }

    private void sheet() {
        row = -1;
        formulaRow = -1;
    }

    private void formula(FormulaRecord formula) throws Limit {
        formulaRow = -1;
        if (formula.hasCachedResultString()) {
            // Its value is the next record's.
            formulaRow = formula.getRow();
        } else if (formula.getCachedResultType() == CellType.NUMERIC.getCode()) {
            cell(formula.getRow(), NumberToTextConverter.toText(formula.getValue()));
        } else if (formula.getCachedResultType() == CellType.BOOLEAN.getCode()) {
            cell(formula.getRow(), formula.getCachedBooleanValue() ? "TRUE" : "FALSE");
        }
    }

    private String sharedString(int index) throws HSSFUserException {
        if (shared == null || index < 0 || index >= shared.getNumUniqueStrings()) {
            throw new HSSFUserException(
                    "the workbook's cell refers to shared string " + index + ", which it does not hold");
        }
        return shared.getString(index).getString();
    }

    private void cell(int cellRow, String value) throws Limit {
        if (value.isEmpty()) {
            return;
        }
        if (row < 0) {
            // A worksheet's first text: a blank line after the one before that had any.
            if (!text.isEmpty()) {
                budget.append(text, "\n\n");
            }
            row = cellRow;
        } else if (cellRow != row) {
            budget.append(text, "\n");
            row = cellRow;
        } else {
            budget.append(text, "\t");
        }
        budget.append(text, value);
    }
}
