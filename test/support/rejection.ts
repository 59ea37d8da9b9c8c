// Moved beside the library's unit specs (which import nothing from test/); kept here for the e2e suites.
export * from '../../libs/token/src/testing-support/rejection.js';
