import assert from 'node:assert/strict';
import os from 'node:os';
import path from 'node:path';
import { publicMessage } from '../../../services/job/public-message.js';

describe('a job error as the requester reads it', () => {
  const dataDir = path.join(os.homedir(), 'stewards', 'data', 'UVA');
  const job = {
    tables: [{ name: 'Personen', file: path.join(dataDir, 'Personen.csv'), format: 'csv' as const, delimiter: ';' }],
    tempDir: path.join(os.tmpdir(), 'dynamos-job-1-abc'),
  };

  const rows: [string, string, string][] = [
    ['names the table, not its file', `IO Error: cannot open "${job.tables[0]!.file}"`, 'IO Error: cannot open "<file of table Personen>"'],
    ['hides the data directory', `No files found in ${dataDir}/other.csv`, 'No files found in <data directory>/other.csv'],
    ['hides the temp directory the job spills to', `Out of Memory Error: failed to offload to ${job.tempDir}/x.block`, 'Out of Memory Error: failed to offload to <job temp directory>/x.block'],
    ['hides the working directory', `cannot write ${process.cwd()}/x`, 'cannot write <working directory>/x'],
    ['keeps only the first line', 'Binder Error: no such column\nLINE 1: SELECT secret', 'Binder Error: no such column'],
    ['drops the raw line a CSV error quotes', 'Conversion Error: CSV Error on Line: 30002 Original Line: 123;SECRET', 'Conversion Error: a table file has a malformed line (line 30002)'],
  ];
  for (const [rule, message, expected] of rows) {
    it(rule, () => assert.equal(publicMessage(message, job), expected));
  }
});
