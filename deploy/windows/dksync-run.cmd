@echo off
rem One dksync run for Windows Task Scheduler. Adjust the paths; keep the state on a local disk
rem (state.path: C:/dksync/state.sqlite in the config). Register every 15 minutes with:
rem   schtasks /Create /TN dksync /SC MINUTE /MO 15 /TR C:\dksync\dksync-run.cmd
set MOMENT_API_KEY_FILE=C:\dksync\moment-key
set DKPLUS_API_TOKEN_FILE=C:\dksync\dkplus-token
C:\dksync\venv\Scripts\dksync.exe -q --log-file C:\dksync\dksync.log run -c C:\dksync\dksync.yaml
