"""dkplus"""
