import { incompleteReportNotice } from '../../model/run-state';
import { defineRule } from './rule';

/** Runner messages that failed validation were left out: say so, or a report missing them would read as clean. */
export const incompleteReport = defineRule({
  id: 'incomplete-report',
  severity: 'warning',
  name: 'IncompleteReport',
  summary: 'Some of what the run reported was malformed and left out: the report is incomplete.',
  help:
    'Loss Lens checks every message from the instrumented script against its protocol and drops any that fails, ' +
    'rather than trust it. What such a message carried (layers, steps, penalties) is missing, so a clean report ' +
    'may not be clean. Unless the script itself wrote on Loss Lens\'s private channel, this is a Loss Lens bug: ' +
    'please report it with the error the finding quotes.',
  firesWhen:
    'runner messages failed validation and were left out: the report says how many and quotes the first error (also a notice); what they carried is missing, so a clean report may not be clean',
  check: ({ state }) => {
    if (state.protocolErrors === 0) return [];
    const n = state.protocolErrors;
    const what = `${incompleteReportNotice(n, state.firstProtocolError)} What ${n === 1 ? 'it' : 'they'} carried is missing from this report, so it may look cleaner than the run was.`;
    return [{ message: what, source: null }];
  },
});
